package basic

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// DefaultAddr is where the server listens and the client connects unless told
// otherwise: the loopback interface, so nothing outside this machine can
// connect, and the tutorial's port 5000.
const DefaultAddr = "127.0.0.1:5000"

// Greeting is what the server sends to every client before it hangs up.
const Greeting = "Thank you for connecting\n"

// writeTimeout bounds the greeting's Write. A Write returns once the bytes
// are in the kernel's send buffer, which a short greeting always fits, but
// every network call in this course has a bound so that no peer can hold the
// accept loop forever.
const writeTimeout = 5 * time.Second

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("basic: server closed")

// Server greets every client that connects and closes the connection.
// The zero value is ready to use.
type Server struct {
	// Log gets a line for each thing the server does. Nil means no logging.
	Log *log.Logger

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	closed bool
}

// Serve accepts connections on ln, one at a time, and greets each one. It
// returns ErrServerClosed after Close, or the error that stopped Accept.
// Serve closes ln before it returns. A Server serves one listener: call
// Serve once.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) {
		return ErrServerClosed
	}

	s.logf("listening on %s", ln.Addr())
	for {
		conn, err := ln.Accept() // blocks until a client connects
		if err != nil {
			// Close makes Accept fail: ask whether we are closing before
			// treating the error as a real one.
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		s.handleConn(conn)
	}
}

// handleConn sends the greeting and hangs up. The client reads until it sees
// the connection close (EOF): closing is how this server says "that's all".
func (s *Server) handleConn(conn net.Conn) {
	defer conn.Close()
	s.logf("connection from %s", conn.RemoteAddr())
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(conn, Greeting); err != nil {
		s.logf("greet %s: %v", conn.RemoteAddr(), err)
	}
}

// Close stops the server: it closes the listener, and Serve returns
// ErrServerClosed. A greeting already being sent is finished (it is bounded
// by a write deadline). Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.ln == nil {
		return nil // Serve has not started: it will see closed
	}
	if err := s.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

// listening records ln, so that Close can close it; it reports false if the
// server is closed already.
func (s *Server) listening(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ln = ln
	return !s.closed
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
