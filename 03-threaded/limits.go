package threaded

// The limits of the server and of the client, and what they are when left
// at zero. Chapter 02 added a buffer size and a timeout on every Read and
// Write. This chapter reads lines: its limit is a line's length, and its
// timeout bounds the wait for a line or for the client to take a reply. Its
// client bounds the wait for each reply that is due.

import "time"

// DefaultMaxLineLength is the longest line a client may send, counting its
// newline.
const DefaultMaxLineLength = 4096

// DefaultTimeout is how long the server waits for a client to send its next
// line, or to take a reply, before it hangs up.
const DefaultTimeout = 5 * time.Minute

// DefaultReplyTimeout is how long a Client waits for a reply that is due.
const DefaultReplyTimeout = 10 * time.Second

// maxReplyLength bounds one line in either direction, so that a broken
// server cannot make the client use unbounded memory.
const maxReplyLength = 1 << 20

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) maxLineLength() int { return orDefault(s.MaxLineLength, DefaultMaxLineLength) }

func (s *Server) timeout() time.Duration { return orDefault(s.Timeout, DefaultTimeout) }
