//go:build !unix

package chat

import (
	"errors"
	"log"
	"net"
	"time"
)

// PollSupported reports whether PollServer works on this system.
const PollSupported = false

// PollServer is the chat room as one poll(2) loop over non-blocking
// sockets. This system has no poll(2), so Serve only returns an error; see
// poll_unix.go for the real thing.
type PollServer struct {
	Log           *log.Logger   // nil: no logging
	MaxLineLength int           // 0: DefaultMaxLineLength; longest line counting its "\n"
	MaxPending    int           // 0: DefaultMaxPending; bytes that may wait for one client before it is dropped
	MaxInFlight   int           // 0: DefaultMaxInFlight; bytes of what one client said that may wait for others before the room stops reading from it
	Timeout       time.Duration // 0: DefaultTimeout; a client that takes longer to accept a write (about 64 KiB) is dropped
}

// Serve closes ln and returns an error: the poll server needs a unix system.
func (s *PollServer) Serve(ln net.Listener) error {
	ln.Close()
	return errors.New("chat: the poll server needs a unix system (poll(2))")
}

// Close does nothing, as Serve never runs here.
func (s *PollServer) Close() error { return nil }
