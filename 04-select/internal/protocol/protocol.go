// Package protocol is what the chapter's two servers, chat.Server and
// poll.Server, share: the lines of the chat protocol, the reasons the room
// gives for disconnecting a client, and how a limit left at zero takes its
// default.
//
// A client sends lines; each line ends with "\n" (a "\r" before it is
// dropped, for telnet), and a last line without a newline still counts when
// the client hangs up. For every line the room sends:
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
package protocol

import (
	"bytes"
	"fmt"
	"time"
)

// OKLine is the sender's receipt for line.
func OKLine(line []byte) []byte {
	return fmt.Appendf(nil, "OK ... %s\n", line)
}

// SaidLine is line as the rest of the room sees it.
func SaidLine(from string, line []byte) []byte {
	return fmt.Appendf(nil, "<%s> %s\n", from, line)
}

// OfflineLine tells the room that addr has left.
func OfflineLine(addr string) []byte {
	return fmt.Appendf(nil, "Client %s is offline\n", addr)
}

// TooLongLine is what a client hears before it is disconnected for a line
// longer than max bytes.
func TooLongLine(max int) []byte {
	return fmt.Appendf(nil, "error: line longer than %d bytes\n", max)
}

// TrimLine drops the "\r" that telnet and Windows programs send before
// the "\n" (the "\n" itself is already gone).
func TrimLine(line []byte) []byte {
	return bytes.TrimSuffix(line, []byte("\r"))
}

// LineTooLong is why a client that sends a line longer than Max bytes is
// disconnected.
type LineTooLong struct{ Max int }

func (e LineTooLong) Error() string { return fmt.Sprintf("line longer than %d bytes", e.Max) }

// NotReading is why a client for which more than Max bytes wait is
// disconnected.
type NotReading struct{ Max int }

func (e NotReading) Error() string {
	return fmt.Sprintf("not reading (more than %d bytes waiting)", e.Max)
}

// OrDefault returns v, or def when v is zero or less: a limit left at zero
// takes its default.
func OrDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
