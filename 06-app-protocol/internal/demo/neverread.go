// Package demo holds the chapter's experiment with a peer that never
// reads, which the tutorial describes (its app-server-test.py and
// app-client-test.py) but does not show: NeverReadServer accepts
// connections and never reads them, and Flood sends one request over and
// over and never reads a response. app-server -never-read and app-client
// -flood run them. They show what the kernel's buffers do; they are not a
// server or a client, and the app package knows nothing of them.
package demo

import (
	"errors"
	"fmt"
	"log"
	"net"
	"sync"

	app "example.com/sockets/06-app-protocol"
)

// NeverReadServer accepts connections and never reads from them: it holds
// each one open, unread, until Close. The zero value is ready to use.
type NeverReadServer struct {
	// Log gets a line when the server listens, and one for each
	// connection it accepts. Nil means no logging.
	Log *log.Logger

	// Quiet leaves out the lines about accepted connections.
	Quiet bool

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	held   map[net.Conn]struct{}
	closed bool
}

// Serve accepts connections on ln and holds each one open. It returns
// app.ErrServerClosed after Close, or the error that stopped Accept, and
// closes ln. Call it once per NeverReadServer.
func (s *NeverReadServer) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) {
		return app.ErrServerClosed
	}

	s.logf("listening on %s (and never reading)", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return app.ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		if !s.hold(conn) {
			conn.Close() // closed meanwhile
			continue
		}
		if !s.Quiet {
			s.logf("accepted connection from %s", conn.RemoteAddr())
		}
	}
}

// Close stops the server: it closes the listener and every connection it
// holds. Close may be called more than once.
func (s *NeverReadServer) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for conn := range s.held {
		conn.Close()
	}
	s.held = nil
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
func (s *NeverReadServer) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	return !s.closed
}

// hold records conn, so that Close can close it; it reports false if the
// server is closed.
func (s *NeverReadServer) hold(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.held == nil {
		s.held = make(map[net.Conn]struct{})
	}
	s.held[conn] = struct{}{}
	return true
}

func (s *NeverReadServer) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *NeverReadServer) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
