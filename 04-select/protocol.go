package chat

import (
	"bytes"
	"errors"
	"fmt"
	"time"
)

// The chat protocol, spoken by both servers. A client sends lines; each
// line ends with "\n" (a "\r" before it is dropped, for telnet), and a last
// line without a newline still counts when the client hangs up. For every
// line the room sends:
//
//	to the sender:        OK ... LINE
//	to everybody else:    <ADDR> LINE
//
// where ADDR is the sender's address as the server sees it, such as
// 127.0.0.1:55221. When a client leaves, for whatever reason, everybody
// else gets
//
//	Client ADDR is offline
//
// A client that sends a line longer than the limit gets one line
//
//	error: line longer than N bytes
//
// and is disconnected. Every line the server sends ends with "\n".

// DefaultAddr is the tutorial's port, on the loopback interface.
const DefaultAddr = "127.0.0.1:5000"

// DefaultMaxLineLength is the longest line a client may send, counting its
// newline.
const DefaultMaxLineLength = 4096

// DefaultMaxPending is how many bytes may wait for a client before the
// room gives up on it as not reading: far more than backpressure lets pile
// up for a client that reads (see backpressure.go).
const DefaultMaxPending = 1 << 20

// DefaultMaxInFlight is how many bytes of what a client has said may wait
// to be written to the others before the room stops reading from it.
const DefaultMaxInFlight = 64 << 10

// DefaultTimeout is how long a write to a client, of at most about 64 KiB,
// may take before the client is disconnected.
const DefaultTimeout = 10 * time.Second

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("chat: server closed")

// okLine is the sender's receipt for line.
func okLine(line []byte) []byte {
	return fmt.Appendf(nil, "OK ... %s\n", line)
}

// saidLine is line as the rest of the room sees it.
func saidLine(from string, line []byte) []byte {
	return fmt.Appendf(nil, "<%s> %s\n", from, line)
}

// offlineLine tells the room that addr has left.
func offlineLine(addr string) []byte {
	return fmt.Appendf(nil, "Client %s is offline\n", addr)
}

// tooLongLine is what a client hears before it is disconnected for a line
// longer than max bytes.
func tooLongLine(max int) []byte {
	return fmt.Appendf(nil, "error: line longer than %d bytes\n", max)
}

// trimLine drops the "\r" that telnet and Windows programs send before
// the "\n" (the "\n" itself is already gone).
func trimLine(line []byte) []byte {
	return bytes.TrimSuffix(line, []byte("\r"))
}

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
