package chat

// Stopping the server, and what the server records so that it can. Chapter
// 01's Close closed the listener and 02's also the connection being served;
// 03 closes every connection, and waits for their goroutines. Here Close
// also stops the hub; there is no Shutdown, only Close.

import (
	"errors"
	"net"
)

// Close stops the server: it closes the listener and every connection,
// stops the hub, and returns once every goroutine the server started has
// ended. Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	var err error
	if !s.closed {
		s.closed = true
		if s.done != nil {
			close(s.done) // the hub, and every reader and writer, stop
		}
		if s.ln != nil {
			if cerr := s.ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
				err = cerr
			}
		}
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

// listening records ln, so that Close can close it, and starts the hub the
// first time; it reports false if the server is closed.
func (s *Server) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	if s.closed {
		return false
	}
	if s.done == nil {
		s.join = make(chan *member)
		s.leave = make(chan departure)
		s.said = make(chan message)
		s.done = make(chan struct{})
		s.conns = make(map[net.Conn]struct{})
		s.wg.Go(s.hub)
	}
	return true
}

// trackConn records c and counts its goroutine in s.wg, unless the server
// is closed. Close sets s.closed under s.mu before it waits, so no wg.Add
// races with the Wait.
func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

// untrackConn forgets c, and tells Close that its goroutine is done.
func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.wg.Done()
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
