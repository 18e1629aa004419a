package threaded

// Stopping the server, and what the server records so that it can. Chapter
// 01's Close closed the listener, and chapter 02's also the one connection
// being served. This chapter serves many at once: it records each of them,
// counts their goroutines in a WaitGroup so that Close can wait for them,
// and adds Shutdown, which says goodbye first.

import (
	"context"
	"errors"
	"net"
	"time"
)

// Goodbye is the last line a client gets when the server shuts down
// gracefully while it is connected.
const Goodbye = "Server shutting down. Goodbye.\n"

// Close stops the server at once: it closes the listener, which ends Serve
// with ErrServerClosed, and every connection, then waits until every client
// goroutine has ended. Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	err := s.closeListenerLocked()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

// Shutdown stops the server gracefully. It closes the listener, then asks
// every client goroutine to finish: one that is waiting for a line sends
// Goodbye and hangs up; one that is writing a reply finishes it first.
// Shutdown returns nil once every client goroutine has ended. If ctx ends
// first, it closes what is left as Close does, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closed = true
	err := s.closeListenerLocked()
	for c := range s.conns {
		// Wakes a Read that is waiting for the client; see waitForLine.
		c.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		s.Close() // ends the stragglers, and waits for them
		<-done
		return ctx.Err()
	}
}

func (s *Server) closeListenerLocked() error {
	if s.ln == nil {
		return nil // Serve has not started: it will see closed
	}
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// waitForLine sets the deadline for the client's next line, unless the
// server is shutting down. Shutdown sets a deadline in the past on every
// connection, holding s.mu; setting ours under the same lock means that
// we never overwrite it with one in the future.
func (s *Server) waitForLine(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	conn.SetReadDeadline(time.Now().Add(s.timeout()))
	return true
}

// listening records ln, so that Close can close it; it reports false if the
// server is closed.
func (s *Server) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	return !s.closed
}

// trackConn records c and counts its goroutine in s.wg, unless the server
// is closed. Both happen under s.mu, and Close sets s.closed under s.mu
// before it calls s.wg.Wait: so no wg.Add can race with that Wait.
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
	s.wg.Add(1)
	return true
}

// untrackConn forgets c; handleConn calls it as it returns.
func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}
