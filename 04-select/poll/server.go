// Package poll is chapter 04's chat room once more, run the way the
// tutorial's select() server runs it: one loop, on one goroutine, over
// non-blocking sockets, that asks poll(2) which of them are ready. It is
// the same room as chat.Server, with the same protocol (internal/protocol),
// the same limits and backpressure (chat's backpressure.go), and the same
// tests (chat_test.go runs every one against both servers).
//
// The loop is in poll_unix.go: Server is built on unix systems only.
// Elsewhere Supported is false, and Serve returns an error.
package poll

import (
	"log"
	"time"
)

// Server is the chat room as the tutorial's select() server runs it: one
// loop, on one goroutine, that asks the kernel which sockets are ready and
// then does only what will not block. It calls poll(2), select's successor,
// on raw non-blocking file descriptors. Go's runtime does the same for every
// net.Conn, with epoll or kqueue: that is how a conn.Read that seems to
// block parks only its goroutine. Here the machinery is in plain sight.
//
// The zero value is ready to use. Serve may be called only once. It returns
// chat.ErrServerClosed after Close.
type Server struct {
	Log           *log.Logger   // nil: no logging
	MaxLineLength int           // 0: chat.DefaultMaxLineLength; longest line counting its "\n"
	MaxPending    int           // 0: chat.DefaultMaxPending; bytes that may wait for one client before it is dropped
	MaxInFlight   int           // 0: chat.DefaultMaxInFlight; bytes of what one client said that may wait for others before the room stops reading from it
	Timeout       time.Duration // 0: chat.DefaultTimeout; a client that takes longer to accept a write (about 64 KiB) is dropped

	control // what Serve and Close share, on unix systems
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
