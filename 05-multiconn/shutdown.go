package multiconn

// Stopping the server, and what the server records so that it can. Chapter
// 01's Close closed the listener; since chapter 03, Close also closes every
// connection and waits for their goroutines. Chapter 03 has Shutdown too;
// this chapter, like 04, has Close only.

import (
	"errors"
	"net"
)

// Close stops the server: it closes the listener and every connection,
// then waits until every connection's goroutine has ended. Close may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	var err error
	if s.ln != nil { // nil: Serve has not started, and will see closed
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

// listening records ln, so that Close can close it; it reports false if the
// server is closed.
func (s *Server) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	return !s.closed
}

// trackConn records c, counts it as open and served, and counts its
// goroutine in s.wg, unless the server is closed. Both happen under s.mu,
// and Close sets s.closed under s.mu before it calls s.wg.Wait, so no
// wg.Add can race with that Wait.
func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[c] = struct{}{}
	s.open.Add(1)
	s.total.Add(1)
	s.wg.Add(1)
	return true
}

// untrackConn forgets c, which is no longer open. (handleConn's wg.Done
// is in hangUp.)
func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	s.open.Add(-1)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
