package chat

// The room's limits, and what it does when they are left at zero. Chapter
// 02 added a timeout, and chapter 03 a line's length; this chapter adds the
// two limits of backpressure.go, in bytes, and the most the writer sends at
// once. The client's own limits are in client.go.

import (
	"time"

	"example.com/sockets/04-select/internal/protocol"
)

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

// maxBatch is about the most the writer sends in one system call.
const maxBatch = 64 << 10

// Each limit is its field, or its default when the field is zero or less
// (protocol.OrDefault, which poll.Server uses too).

func (s *Server) maxLineLength() int {
	return protocol.OrDefault(s.MaxLineLength, DefaultMaxLineLength)
}

func (s *Server) maxPending() int {
	return protocol.OrDefault(s.MaxPending, DefaultMaxPending)
}

func (s *Server) maxInFlight() int {
	return protocol.OrDefault(s.MaxInFlight, DefaultMaxInFlight)
}

func (s *Server) timeout() time.Duration {
	return protocol.OrDefault(s.Timeout, DefaultTimeout)
}
