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
	"time"

	"example.com/sockets/05-multiconn/internal/wire"
)

// DefaultAddr is the tutorial's address: the loopback interface, port 65432.
const DefaultAddr = "127.0.0.1:65432"

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("multiconn: server closed")

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

	// Counters, updated as connections come and go and bytes flow: see
	// Stats.
	open, total, refused atomic.Int64
	bytesIn, bytesOut    atomic.Int64

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // one per connection goroutine
}

// connState is the state of one connection: the tutorial's
// SimpleNamespace(addr=addr, inb=b"", outb=b"").
type connState struct {
	nc       net.Conn
	addr     string
	bytesIn  int64
	bytesOut int64
}

// Serve accepts connections on ln and echoes each one on a goroutine of its
// own. It returns ErrServerClosed after Close, or the error that stopped
// Accept, and closes ln. Call it once per Server.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) {
		return ErrServerClosed
	}

	s.logf("listening on %s", ln.Addr())
	for {
		conn, err := s.accept(ln) // ln.Accept, retried when out of descriptors
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		if s.refuse(conn) { // MaxConns open already: told so, and closed
			continue
		}
		if !s.trackConn(conn) { // for Close, which waits for handleConn
			conn.Close()
			continue
		}
		// Logged, and the state made, here rather than on the
		// connection's goroutine: see handleConn.
		s.logf("accepted connection from %s", conn.RemoteAddr())
		go s.handleConn(&connState{nc: conn, addr: conn.RemoteAddr().String()})
	}
}

// handleConn echoes c's connection until the client closes its side, goes
// silent for the idle timeout, or fails; then it closes it.
//
// A connection that waits for data costs its goroutine's stack and the
// buffer it reads into; with ten thousand idle clients, that is what
// counts. So handleConn waits with a small buffer and takes a big one from
// a pool only once a read fills the small one, giving it back when the
// client pauses. And it keeps the stack shallow while it waits: the loop
// is here, not in a function handleConn calls, and everything else
// (logging, hanging up) is in functions called only when needed. A
// goroutine parked in Read one frame deeper keeps a 4 KB stack instead of
// 2 KB: 20 MB more for ten thousand idle connections (see BenchmarkIdle in
// the README). Measured, so does a handleConn that logs a line before its
// first Read, or that takes the bare net.Conn and makes its state itself:
// Serve does both.
func (s *Server) handleConn(c *connState) {
	idle, wait := s.idleTimeout(), s.writeTimeout()
	var rd, wd wire.Deadline
	small := make([]byte, smallBuffer)
	buf, big := small, (*[]byte)(nil)
	for {
		rd.Arm(c.nc.SetReadDeadline, idle)
		n, err := c.nc.Read(buf)
		if n > 0 {
			c.bytesIn += int64(n)
			s.bytesIn.Add(int64(n))
			if !s.Quiet {
				s.logf("echoing %s to %s", preview(buf[:n]), c.addr)
			}
			wd.Arm(c.nc.SetWriteDeadline, wait)
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

// bigBuffers are the read buffers of the connections that are busy.
var bigBuffers = sync.Pool{New: func() any {
	b := make([]byte, bigBuffer)
	return &b
}}

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

// hangUp ends handleConn: it gives back the big buffer, if handleConn had
// one, stops tracking c, says why it ended (nil: the client was done), and
// closes it: normally when the client was done or the server is closing,
// with a reset when the server drops the client (see reset). The line and
// the counters come first, so that once the client sees the connection
// end, both already say so.
func (s *Server) hangUp(c *connState, big *[]byte, why error) {
	defer s.wg.Done()
	if big != nil {
		bigBuffers.Put(big)
	}
	s.untrackConn(c.nc)
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

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// plural says "1 byte" or "n bytes": n and noun, in the plural unless n
// is 1.
func plural[T int | int64](n T, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
