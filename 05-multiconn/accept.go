package multiconn

// Retrying Accept when the process runs out of descriptors or memory, so
// that Serve's loop stays the loop. Chapter 03 added it; with ten thousand
// clients at once, this chapter is where it matters.

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// accept returns ln.Accept's connection, or its error. When Accept fails
// for want of descriptors or memory, the clients already connected are
// still being served, and each one that leaves gives a descriptor back: so
// accept says so in the log, waits a little, and tries again, as net/http
// does, rather than stop serving.
func (s *Server) accept(ln net.Listener) (net.Conn, error) {
	for {
		conn, err := ln.Accept()
		if err == nil || s.isClosed() || !outOfResources(err) {
			return conn, err
		}
		s.logf("accept: %v", err)
		time.Sleep(50 * time.Millisecond)
	}
}

// outOfResources reports whether Accept failed for want of something that
// may come back: descriptors (EMFILE for the process, ENFILE for the
// system) or kernel memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}
