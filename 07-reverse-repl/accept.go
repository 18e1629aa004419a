package reverse

// Retrying Accept when the process runs out of descriptors or memory, so
// that Serve's loop stays the loop. Chapter 03 added it; net/http does the
// same, with a delay that grows.

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// acceptRetry is how long accept waits before it calls Accept again after
// outOfResources.
const acceptRetry = 50 * time.Millisecond

// accept returns ln.Accept's connection, or its error. When Accept fails
// for want of descriptors or memory, the clients already connected are
// still being answered, and each one that leaves gives a descriptor back:
// accept says so in the log, waits, and tries again.
func (s *Server) accept(ln net.Listener) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err == nil || s.isClosed() || !outOfResources(err) {
			return conn, err
		}
		s.logf("accept: %v; trying again in %v", err, acceptRetry)
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
