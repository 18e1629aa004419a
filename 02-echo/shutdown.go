package echo

// Stopping the server, and what the server records so that it can. Chapter
// 01's Close closed the listener; from this chapter on it also ends the
// connection being served.

import (
	"errors"
	"net"
)

// Close stops the server: it closes the listener, which ends Serve with
// ErrServerClosed, and the connection being served, if any. Close may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn != nil {
		s.conn.Close()
	}
	if s.ln == nil {
		return nil // Serve has not started: it will see closed
	}
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// listening records ln, so that Close can close it; it reports false if the
// server is closed.
func (s *Server) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	return !s.closed
}

// serving records conn as the client being served (nil: none), so that Close
// can end it; it reports false if the server is closed.
func (s *Server) serving(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed && conn != nil {
		return false
	}
	s.conn = conn
	return true
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
