package echo

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// DefaultAddr is the tutorial's address: the loopback interface, port 65432.
const DefaultAddr = "127.0.0.1:65432"

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("echo: server closed")

// Server echoes back everything a client sends, one client at a time: while
// it serves one, the next waits in the listener's backlog. The zero value is
// ready to use.
type Server struct {
	// Log gets a line for each thing the server does. Nil means no logging.
	Log *log.Logger

	// BufferSize is how much one Read may take in (0: DefaultBufferSize).
	BufferSize int

	// Timeout bounds every Read and Write: a client that sends nothing, or
	// stops reading its echo, for that long is dropped, so that it cannot
	// keep the clients behind it waiting. Zero means DefaultTimeout.
	Timeout time.Duration

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conn   net.Conn // the client being served, so that Close can end it
	closed bool
}

// Serve accepts connections on ln and echoes each one until its client is
// done, then accepts the next. It returns ErrServerClosed after Close, or the
// error that stopped Accept, and closes ln. Call it once per Server.
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
		// No goroutine: the next client waits until this one is done.
		s.handleConn(conn)
	}
}

// handleConn echoes conn until its client has finished sending, then hangs up.
func (s *Server) handleConn(conn net.Conn) {
	defer conn.Close()
	if !s.serving(conn) {
		return // closed meanwhile
	}
	defer s.serving(nil)

	peer := conn.RemoteAddr()
	s.logf("connection from %s", peer)
	n, err := s.echo(conn)
	switch {
	case s.isClosed():
		s.logf("%s: server closing after %d bytes", peer, n)
	case err != nil:
		s.logf("%s: %v after %d bytes", peer, err, n)
		reset(conn)
	default:
		s.logf("echoed %d bytes to %s", n, peer)
	}
}

// echo copies what conn receives back to conn until EOF and returns how many
// bytes it echoed. It is io.Copy(conn, conn) with a deadline on every call.
func (s *Server) echo(conn net.Conn) (int64, error) {
	buf := make([]byte, orDefault(s.BufferSize, DefaultBufferSize))
	timeout := orDefault(s.Timeout, DefaultTimeout)
	var total int64
	for {
		conn.SetReadDeadline(time.Now().Add(timeout))
		// Read returns what has arrived so far: one byte or a whole
		// buffer, never "the message" (TCP does not know about messages).
		n, err := conn.Read(buf)
		if n > 0 {
			conn.SetWriteDeadline(time.Now().Add(timeout))
			// Write returns only once all n bytes are handed to the
			// kernel, or with an error: it is Python's sendall.
			if _, err := conn.Write(buf[:n]); err != nil {
				return total, fmt.Errorf("write: %w", err)
			}
			total += int64(n)
		}
		if errors.Is(err, io.EOF) {
			return total, nil // the client has closed its side: all echoed
		}
		if err != nil {
			return total, fmt.Errorf("read: %w", err)
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
