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
	Outbox        int           // 0: DefaultOutbox; messages queued for one client before it is dropped
	Timeout       time.Duration // 0: DefaultTimeout; a client with queued output that accepts no byte for this long is dropped
}

// Serve closes ln and returns an error: the poll server needs a unix system.
func (s *PollServer) Serve(ln net.Listener) error {
	ln.Close()
	return errors.New("chat: the poll server needs a unix system (poll(2))")
}

// Close does nothing, as Serve never runs here.
func (s *PollServer) Close() error { return nil }
