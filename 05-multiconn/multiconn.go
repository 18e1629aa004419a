// Package multiconn is chapter 05 of the course: an echo server for many
// connections at once, each with its own state, bounded in every way that
// matters (how long a client may stay silent, how many may connect, how
// much memory an idle one costs), and a client that opens many connections
// at once and doubles as the course's load generator.
//
// It ports the tutorial's multiconn-server.py and multiconn-client.py. The
// tutorial keeps each socket's state (address, bytes to send) in a
// SimpleNamespace next to a selectors loop; here each connection's state is
// a struct owned by the goroutine that serves it.
//
// What changed since 04-select: no shared room, so no hub: connections are
// independent, and the work is keeping thousands of them cheap and safe.
package multiconn

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultAddr is the tutorial's address: the loopback interface, port 65432.
const DefaultAddr = "127.0.0.1:65432"

// DefaultIdleTimeout is how long a client may send nothing before the server
// hangs up on it, as the tutorial advises.
const DefaultIdleTimeout = time.Minute

// DefaultWriteTimeout is how long the server waits for a client to take an
// echo before it hangs up on it.
const DefaultWriteTimeout = 10 * time.Second

// Buffer sizes: a connection waits for data with a small buffer and reads
// with a big one, from a pool, only while data keeps coming. See serve.
const (
	smallBuffer = 512
	bigBuffer   = 64 << 10
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("multiconn: server closed")

// BusyMessage is what a client is told, before the server hangs up, when
// MaxConns connections are open already.
const BusyMessage = "server busy: too many connections, try again later\n"

// Server echoes back what each client sends, on any number of connections
// at once, each on its own goroutine. The zero value is ready to use.
type Server struct {
	// Log gets a line when a connection is accepted, refused or closed,
	// and one per echo unless Quiet is set. Nil means no logging.
	Log *log.Logger

	// Quiet drops the line per echo, for load tests.
	Quiet bool

	// IdleTimeout is how long a client may send nothing before the
	// server hangs up. Zero means DefaultIdleTimeout.
	IdleTimeout time.Duration

	// WriteTimeout bounds each echo: a client that takes none of it for
	// this long is dropped. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration

	// MaxConns, if positive, is the most connections open at once; a
	// client over the limit gets BusyMessage and is disconnected.
	MaxConns int

	// Counters, updated as connections come and go and bytes flow.
	open, total, refused atomic.Int64
	bytesIn, bytesOut    atomic.Int64

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup // one per connection goroutine
}

// Stats are the server's counters at one moment.
type Stats struct {
	Open     int64 // connections open now
	Total    int64 // connections accepted and served, ever
	Refused  int64 // connections turned away by MaxConns
	BytesIn  int64 // bytes received, from all connections
	BytesOut int64 // bytes echoed, to all connections
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Open:     s.open.Load(),
		Total:    s.total.Load(),
		Refused:  s.refused.Load(),
		BytesIn:  s.bytesIn.Load(),
		BytesOut: s.bytesOut.Load(),
	}
}

// conn is the state of one connection: the tutorial's
// SimpleNamespace(addr=addr, inb=b"", outb=b"").
type conn struct {
	nc       net.Conn
	addr     string
	bytesIn  int64
	bytesOut int64
}

// Serve accepts connections on ln and echoes each one on a goroutine of its
// own. It returns ErrServerClosed after Close, or the error that stopped
// Accept. Serve closes ln before it returns.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	defer ln.Close()

	s.logf("listening on %s", ln.Addr())
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if !outOfResources(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of descriptors or memory: say so, wait a little and
			// try again, as net/http does, rather than stop serving
			// the clients already connected. One of them may leave.
			s.logf("accept: %v", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if !s.admit(nc) {
			continue
		}
		go s.serve(&conn{nc: nc, addr: nc.RemoteAddr().String()})
	}
}

// outOfResources reports whether Accept failed for want of something that
// may come back: descriptors (EMFILE for the process, ENFILE for the
// system) or kernel memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// admit tracks nc and counts its goroutine, unless the server is closed or
// full. A client over MaxConns is told why, and its connection closed.
// Only the decision is made under s.mu: logging and writing to a refused
// client happen after, so that neither can hold up the other connections.
func (s *Server) admit(nc net.Conn) bool {
	s.mu.Lock()
	closed := s.closed
	open := len(s.conns)
	full := s.MaxConns > 0 && open >= s.MaxConns
	if !closed && !full {
		s.conns[nc] = struct{}{}
		s.open.Add(1)
		s.total.Add(1)
		s.wg.Add(1)
	}
	s.mu.Unlock()

	switch {
	case closed:
		nc.Close()
		return false
	case full:
		s.refused.Add(1)
		s.logf("refused connection from %s: %s open", nc.RemoteAddr(), plural(open, "connection"))
		// The message is small enough for the socket's send buffer, so
		// this Write does not wait for the client. The deadline makes
		// sure of it.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write([]byte(BusyMessage))
		nc.Close()
		return false
	}
	s.logf("accepted connection from %s", nc.RemoteAddr())
	return true
}

// serve echoes c until the client closes its side, goes silent for the
// idle timeout, or fails; then it closes c.
//
// A connection that waits for data costs its goroutine's stack and the
// buffer it reads into; with ten thousand idle clients, that is what
// counts. So serve waits with a small buffer and takes a big one from a
// pool only once a read fills the small one, giving it back when the
// client pauses. And it keeps the stack shallow while it waits: the loop
// is here, not in a function serve calls, and everything else (logging,
// hanging up) is in functions called only when needed. A goroutine parked
// in Read one frame deeper keeps a 4 KB stack instead of 2 KB: 20 MB more
// for ten thousand idle connections (see BenchmarkIdle in the README).
func (s *Server) serve(c *conn) {
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	wait := orDefault(s.WriteTimeout, DefaultWriteTimeout)
	var rd, wd deadline
	small := make([]byte, smallBuffer)
	buf, big := small, (*[]byte)(nil)
	for {
		rd.arm(c.nc.SetReadDeadline, idle)
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.bytesIn += int64(n)
			s.bytesIn.Add(int64(n))
			if !s.Quiet {
				s.logf("echoing %s to %s", preview(buf[:n]), c.addr)
			}
			wd.arm(c.nc.SetWriteDeadline, wait)
			m, werr := c.nc.Write(buf[:n])
			c.bytesOut += int64(m)
			s.bytesOut.Add(int64(m))
			if werr != nil {
				s.hangUp(c, big, fmt.Errorf("write: %w", werr))
				return
			}
		}
		if err != nil {
			s.hangUp(c, big, readError(err, idle))
			return
		}
		switch {
		case n == len(buf) && big == nil: // more is coming: read in big pieces
			big = bigBuffers.Get().(*[]byte)
			buf = *big
		case n < len(buf) && big != nil: // drained: wait with the small one
			bigBuffers.Put(big)
			buf, big = small, nil
		}
	}
}

// readError says why a Read ended the connection: nil for the client's
// EOF, which is the normal end.
func readError(err error, idle time.Duration) error {
	switch {
	case errors.Is(err, io.EOF):
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("idle for %v", idle)
	}
	return fmt.Errorf("read: %w", err)
}

// hangUp ends serve: it gives back the big buffer, if serve had one,
// forgets c, says why it ended (nil: the client was done), and closes it:
// normally when the client was done or the server is closing, with a
// reset when the server drops the client (see reset). The line and the
// counters come first, so that once the client sees the connection end,
// both already say so.
func (s *Server) hangUp(c *conn, big *[]byte, why error) {
	defer s.wg.Done()
	if big != nil {
		bigBuffers.Put(big)
	}
	s.forget(c)
	switch {
	case why == nil:
		s.logf("closing connection to %s: %s in, %d out", c.addr, plural(c.bytesIn, "byte"), c.bytesOut)
		c.nc.Close()
	case s.isClosed():
		s.logf("closing connection to %s: server closing", c.addr)
		c.nc.Close()
	default:
		s.logf("closing connection to %s: %v (%s in, %d out)", c.addr, why, plural(c.bytesIn, "byte"), c.bytesOut)
		reset(c.nc)
	}
}

// reset ends a connection with a reset (RST) instead of the normal FIN.
// The server drops a client when it stays idle, when it does not take its
// echo, or when the connection fails; a client that has stopped reading
// has left its echo in the kernel's send buffer, up to a few megabytes of
// it. A normal Close queues the FIN behind those bytes, which the client
// never takes: the kernel keeps the socket and its buffer for minutes
// while the client stays connected, and the client, not reading, never learns
// that it was dropped. With SO_LINGER set to zero, Close throws the unsent
// bytes away and sends RST: the socket is freed at once, and the client's
// next read fails with "connection reset by peer".
func reset(nc net.Conn) {
	if tc, ok := nc.(interface{ SetLinger(sec int) error }); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}

// preview shows b as a Go string literal, as the tutorial prints Python's
// bytes, shortened to its first 64 bytes, with its size, if it is longer.
// Escaped, a client's bytes cannot end the log line or start one of their
// own (a line break shows as \n, DEL as \x7f), and cut, they cannot make
// a line longer than a few hundred bytes.
func preview(b []byte) string {
	const shown = 64
	if len(b) <= shown {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q... (%d bytes)", b[:shown], len(b))
}

// bigBuffers are the read buffers of the connections that are busy.
var bigBuffers = sync.Pool{New: func() any {
	b := make([]byte, bigBuffer)
	return &b
}}

// deadline renews a connection's deadline lazily. Setting a deadline
// updates a timer in the runtime, which is not free: at a hundred thousand
// messages a second it is a tenth of the server's time. So a deadline of d
// is set again only once an eighth of d has passed since it was last set:
// a call then always has between 7/8 d and d to complete.
type deadline struct{ set time.Time }

func (dl *deadline) arm(set func(time.Time) error, d time.Duration) {
	now := time.Now()
	if now.Sub(dl.set) < d/8 {
		return
	}
	set(now.Add(d))
	dl.set = now
}

// Close stops the server: it closes the listeners and every connection,
// then waits until every connection's goroutine has ended. Close may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
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
	s.mu.Unlock()

	s.wg.Wait()
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
		s.conns = make(map[net.Conn]struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c.nc)
	s.open.Add(-1)
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

// plural says "1 connection" or "n connections": n and noun, in the plural
// unless n is 1.
func plural[T int | int64](n T, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
