package echo

// The server's limits, and what it does when they are left at zero. Chapter
// 02 adds the first two; later chapters add more of them here.

import "time"

// DefaultBufferSize is the size of the server's read buffer. The tutorial
// reads 1024 bytes at a time; see BenchmarkEcho for what that costs.
const DefaultBufferSize = 32 << 10

// DefaultTimeout is how long the server waits on one Read or Write before it
// gives up on a client.
const DefaultTimeout = 30 * time.Second

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
