// Package echo is chapter 02 of the course: an echo server that serves one
// client at a time, sending back every byte it receives until the client is
// done, and a client that sends a message and reads the whole echo.
//
// It ports the tutorial's echo-server.py and echo-client.py, and fixes what
// they leave to luck: one Read may return part of a message, and a big
// message deadlocks a client that writes everything before it reads.
//
// What changed since 01-basic-server: the server reads as well as writes,
// the client half-closes to say "I am done sending", and both handle data
// that arrives in pieces.
package echo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"syscall"
	"time"
)

// DefaultAddr is the tutorial's address: the loopback interface, port 65432.
const DefaultAddr = "127.0.0.1:65432"

// DefaultMessage is what the client sends when given nothing else.
const DefaultMessage = "Hello, world"

// DefaultBufferSize is the size of the server's read buffer. The tutorial
// reads 1024 bytes at a time; see BenchmarkEcho for what that costs.
const DefaultBufferSize = 32 << 10

// DefaultTimeout is how long the server waits on one Read or Write before it
// gives up on a client.
const DefaultTimeout = 30 * time.Second

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("echo: server closed")

// Server echoes back everything a client sends, one client at a time: while
// it serves one, the next waits in the listener's backlog. The zero value is
// ready to use.
type Server struct {
	// Log gets a line for each thing the server does. Nil means no logging.
	Log *log.Logger

	// BufferSize is how much one Read may take in. Zero means
	// DefaultBufferSize.
	BufferSize int

	// Timeout bounds every Read and Write on a connection. A client that
	// sends nothing, or stops reading its echo, for that long is dropped,
	// so that it cannot keep the clients behind it waiting forever.
	// Zero means DefaultTimeout.
	Timeout time.Duration

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{} // being served, so that Close can end them
	closed    bool
}

// Serve accepts connections on ln and echoes each one until its client is
// done, then accepts the next. It returns ErrServerClosed after Close, or the
// error that stopped Accept. Serve closes ln before it returns.
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
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		// No goroutine: the next client is accepted only once this one
		// is done. Chapter 03 changes exactly this line.
		s.serveConn(conn)
	}
}

// serveConn echoes conn until its client has finished sending, then closes it.
func (s *Server) serveConn(conn net.Conn) {
	if !s.trackConn(conn) {
		conn.Close()
		return
	}
	defer s.untrackConn(conn)
	defer conn.Close()

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

// reset drops conn with a reset (RST) instead of the normal FIN. A client
// that is dropped for not reading leaves echoes it never took in the
// kernel's send buffer; a normal Close queues the FIN behind them, and the
// kernel keeps the socket and its buffer, megabytes of it, for minutes
// while the client stays connected. With SO_LINGER at zero, Close throws the
// unsent bytes away and sends RST: the socket is freed at once, and the
// client learns it was dropped. (The deferred Close that follows is a
// no-op.)
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
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

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// Close stops the server: it closes the listeners, which ends Serve with
// ErrServerClosed, and the connection being served, if any. Close may be
// called more than once.
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
	for c := range s.conns {
		c.Close()
	}
	return err
}

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
	return true
}

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

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// Echo connects to the echo server at addr, sends msg and returns what the
// server sends back. ctx bounds the whole exchange.
//
// It writes and reads at the same time: a client that writes a big message
// before it reads anything fills the server's send buffer and its own, and
// both sides wait for each other forever. Once msg is sent, Echo half-closes
// the connection (CloseWrite), which the server sees as EOF; then it reads
// until the server closes in turn. The echo must be exactly len(msg) bytes.
func Echo(ctx context.Context, addr string, msg []byte) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()
	return exchange(ctx, conn.(*net.TCPConn), msg)
}

// halfCloser is a connection that can close its sending side alone: a
// *net.TCPConn, or in a test one that decides when each step happens.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

func exchange(ctx context.Context, conn halfCloser, msg []byte) ([]byte, error) {
	// When ctx ends, a deadline in the past wakes any blocked Read or Write.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(op string, err error) error {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return fmt.Errorf("%s %s: %w", op, conn.RemoteAddr(), err)
	}

	sent := make(chan error, 1)
	go func() {
		_, err := conn.Write(msg) // all of msg, or an error
		if err == nil {
			// Half-close: "I am done sending", yet still able to read.
			err = conn.CloseWrite()
			if errors.Is(err, syscall.ENOTCONN) {
				// The server has reset the connection already:
				// there is nothing left to half-close, and the
				// reader, which still gets what the server sent
				// first, says better what the server did.
				err = nil
			}
		}
		sent <- err
	}()

	// The echo is exactly as long as the message: io.ReadFull keeps
	// calling Read until it has len(msg) bytes, however they arrive.
	echo := make([]byte, len(msg))
	n, err := io.ReadFull(conn, echo)
	if err != nil {
		conn.Close() // unblocks the writer, if it is still writing
		<-sent
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return echo[:n], fail("read from", fmt.Errorf("server closed the connection after echoing %d of %d bytes", n, len(msg)))
		}
		return echo[:n], fail("read from", err)
	}
	if err := <-sent; err != nil {
		return echo, fail("write to", err)
	}
	// After the echo the server should hang up: anything more is not ours.
	if extra, err := conn.Read(make([]byte, 1)); extra > 0 {
		return echo, fail("read from", errors.New("server sent more bytes than were sent to it"))
	} else if !errors.Is(err, io.EOF) {
		return echo, fail("read from", err)
	}
	return echo, nil
}
