//go:build !unix

package poll

import (
	"errors"
	"net"
)

// Supported reports whether Server works on this system.
const Supported = false

// control is empty: this system has no poll(2), so Serve only returns an
// error; see poll_unix.go for the real thing.
type control struct{}

// Serve closes ln and returns an error: the poll server needs a unix system.
func (s *Server) Serve(ln net.Listener) error {
	ln.Close()
	return errors.New("chat: the poll server needs a unix system (poll(2))")
}

// Close does nothing, as Serve never runs here.
func (s *Server) Close() error { return nil }
