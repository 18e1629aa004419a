package chat

// Retrying Accept when the process runs out of descriptors or memory, so
// that Serve's loop stays the loop: the room goes on, and each client that
// leaves gives a descriptor back. Chapter 03 added it; poll.Server does the
// same in its own way.

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// acceptRetry is how long accept waits before it calls Accept again after
// outOfResources.
const acceptRetry = 50 * time.Millisecond

// accept returns the next connection from ln. When Accept fails for want of
// descriptors or memory, it logs the error, waits acceptRetry and tries
// again; it returns any other error, and any error once the server is
// closed.
func (s *Server) accept(ln net.Listener) (net.Conn, error) {
	for {
		conn, err := ln.Accept() // blocks until a client connects
		if err == nil || s.isClosed() || !outOfResources(err) {
			return conn, err
		}
		s.logf("accept: %v", err)
		time.Sleep(acceptRetry)
	}
}

// outOfResources reports whether Accept failed for want of something that
// comes back as connections close: descriptors (EMFILE for the process,
// ENFILE for the system) or kernel memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
