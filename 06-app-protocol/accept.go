package app

// Retrying Accept when the process or the system is out of descriptors or
// memory. Chapter 03 adds it; chapters 04 to 06 keep it as it is.

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// acceptRetry is how long accept waits before it calls Accept again after
// outOfResources.
const acceptRetry = 50 * time.Millisecond

// accept is ln.Accept, except when Accept fails for want of descriptors or
// memory: then the clients already connected are still served, and one that
// leaves gives its descriptor back. So accept logs the error, waits
// acceptRetry and tries again.
func (s *Server) accept(ln net.Listener) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err == nil || !outOfResources(err) || s.isClosed() {
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
