package threaded

// Retrying Accept when the process runs out of descriptors or memory, so
// that Serve's loop stays the loop. Chapter 03 adds it: with a goroutine per
// client, clients can add up to the process's limit of open files. net/http
// does the same, with a delay that grows.

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
// for want of descriptors or memory, that is no reason to stop serving the
// clients already connected, and each one that leaves gives a descriptor
// back: accept logs the error, waits acceptRetry, and tries again.
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
