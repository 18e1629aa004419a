package reverse

// The server's limits, and what it does when they are left at zero. Chapter
// 02 added the first two, a buffer size and a timeout; here the size is
// that of the tutorial's one read, and the timeout leaves a person time to
// type.

import "time"

// DefaultReadSize is how many bytes the server takes in its one read: the
// tutorial's recv(1024).
const DefaultReadSize = 1024

// DefaultTimeout is how long the server waits for a client's first bytes,
// and then for the client to take the answer. It is generous, because the
// client may be a person typing into reverse-repl.
const DefaultTimeout = 5 * time.Minute

func (s *Server) readSize() int { return orDefault(s.ReadSize, DefaultReadSize) }

func (s *Server) timeout() time.Duration { return orDefault(s.Timeout, DefaultTimeout) }

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
