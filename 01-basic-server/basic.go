// Package basic is chapter 01 of the course: the smallest useful TCP server,
// an accept loop that greets each client and hangs up, and the client that
// prints what the server said.
//
// It ports the tutorial's server.py and client.py: bind, listen, accept in a
// loop, send "Thank you for connecting", close.
package basic

import (
	"context"
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

// MaxReply is the most the client reads from a server. A server is free to
// send forever; a client that keeps everything in memory must stop somewhere.
const MaxReply = 64 << 10

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
	// Log gets a line for each thing the server does ("listening on ...",
	// "connection from ..."). Nil means no logging.
	Log *log.Logger

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	closed    bool
}

// Serve accepts connections on ln, one at a time, and greets each one. It
// returns ErrServerClosed after Close, or the error that stopped Accept.
// Serve closes ln before it returns.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	defer ln.Close()

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
		s.greet(conn)
	}
}

// greet sends the greeting and hangs up. The client reads until it sees the
// connection close (EOF): closing is how this server says "that's all".
func (s *Server) greet(conn net.Conn) {
	defer conn.Close()
	s.logf("connection from %s", conn.RemoteAddr())
	conn.SetWriteDeadline(time.Now().Add(writeTimeout))
	if _, err := io.WriteString(conn, Greeting); err != nil {
		s.logf("greet %s: %v", conn.RemoteAddr(), err)
	}
}

// Close stops the server: every Serve call closes its listener and returns
// ErrServerClosed. A greeting already being sent is finished (it is bounded
// by a write deadline). Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	return err
}

// track records ln so that Close can close it; it reports false if the
// server is already closed.
func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
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

// Fetch connects to the server at addr and returns everything it sends
// before it closes the connection. ctx bounds the whole exchange: connecting
// and reading stop when it is cancelled or its deadline passes.
//
// If nothing listens at addr, the error satisfies
// errors.Is(err, syscall.ECONNREFUSED).
func Fetch(ctx context.Context, addr string) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()

	// The context bounds the dial by itself; for the reads, turn its end
	// into a deadline in the past, which wakes a blocked Read at once.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	// Read until EOF: the server closing the connection ends the reply.
	// One Read could return part of it (see chapter 02).
	reply, err := io.ReadAll(io.LimitReader(conn, MaxReply+1))
	if ctx.Err() != nil {
		return reply, fmt.Errorf("read from %s: %w", addr, context.Cause(ctx))
	}
	if err != nil {
		return reply, fmt.Errorf("read from %s: %w", addr, err)
	}
	if len(reply) > MaxReply {
		return reply[:MaxReply], fmt.Errorf("read from %s: reply is longer than %d bytes", addr, MaxReply)
	}
	return reply, nil
}
