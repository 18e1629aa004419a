package app

// Stopping the server, and what the server records so that it can. Chapter
// 01's Close closed the listener, and 02's the connection being served as
// well; from chapter 03 on, Close ends every connection and waits for their
// goroutines, as it does here.

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
	if s.ln != nil { // else Serve has not started: it will see closed
		if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	for conn := range s.conns {
		conn.Close()
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

// trackConn records conn, so that Close can end it, and counts its
// goroutine, so that Close can wait for it. It reports false, and closes
// conn, if the server is closed, or full: a client beyond MaxConns is told
// so (see refuse). Only the decision is made under s.mu: logging and
// writing to a refused client happen after, so that neither can hold up
// the other connections.
func (s *Server) trackConn(conn net.Conn) bool {
	s.mu.Lock()
	closed, open := s.closed, len(s.conns)
	full := open >= s.maxConns()
	if !closed && !full {
		if s.conns == nil {
			s.conns = make(map[net.Conn]struct{})
		}
		s.conns[conn] = struct{}{}
		s.wg.Add(1)
	}
	s.mu.Unlock()

	switch {
	case closed:
		conn.Close()
		return false
	case full:
		s.refuse(conn, open)
		return false
	}
	return true
}

// untrackConn forgets conn, which its goroutine is about to close.
func (s *Server) untrackConn(conn net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, conn)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
