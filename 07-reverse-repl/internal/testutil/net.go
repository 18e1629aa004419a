package testutil

import (
	"errors"
	"net"
	"regexp"
	"slices"
	"testing"
	"time"
)

// Server is what a chapter's server looks like to its tests: Serve accepts on
// a listener until Close is called, and Close ends every connection and
// returns once Serve's goroutines are done (like net/http.Server).
type Server interface {
	Serve(ln net.Listener) error
	Close() error
}

// Listen returns a TCP listener on 127.0.0.1 with a port chosen by the kernel
// (port 0), so tests never fight over a fixed port. It is closed at cleanup.
func Listen(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen on 127.0.0.1:0: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// ListenIPv6 is Listen on the IPv6 loopback [::1]. It skips the test when the
// machine has no IPv6 loopback (some containers disable it).
func ListenIPv6(t testing.TB) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// Running is a server started by StartServer.
type Running struct {
	// Addr is the address the server listens on, ready to dial.
	Addr string

	done chan struct{} // closed when Serve has returned
	err  error         // Serve's result, set before done is closed
}

// Wait waits, at most Timeout, for Serve to return and returns its error.
func (r *Running) Wait(t testing.TB) error {
	t.Helper()
	select {
	case <-r.done:
		return r.err
	case <-time.After(Timeout):
		t.Fatalf("Serve on %s did not return within %v", r.Addr, Timeout)
		return nil
	}
}

// StartServer runs srv.Serve on a new Listen(t) listener in a goroutine.
// At cleanup it calls srv.Close and waits, at most Timeout, for Serve to
// return; the test fails if Serve does not return, or returns an error other
// than closedErr (the chapter's ErrServerClosed; nil if Serve returns nil).
func StartServer(t testing.TB, srv Server, closedErr error) *Running {
	t.Helper()
	return StartServerOn(t, Listen(t), srv, closedErr)
}

// StartServerOn is StartServer on a listener of the caller's choosing.
func StartServerOn(t testing.TB, ln net.Listener, srv Server, closedErr error) *Running {
	t.Helper()
	r := &Running{Addr: ln.Addr().String(), done: make(chan struct{})}
	go func() {
		r.err = srv.Serve(ln)
		close(r.done)
	}()
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("Close server on %s: %v", r.Addr, err)
		}
		select {
		case <-r.done:
			if r.err != nil && !errors.Is(r.err, closedErr) {
				t.Errorf("Serve on %s returned %v, want %v", r.Addr, r.err, closedErr)
			}
		case <-time.After(Timeout):
			t.Errorf("Serve on %s did not return within %v of Close", r.Addr, Timeout)
		}
	})
	return r
}

// Dial connects to addr over TCP, bounded by Timeout, and sets a deadline of
// Timeout on the connection so that no read or write in a test can block
// forever. The connection is closed at cleanup.
func Dial(t testing.TB, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, Timeout)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.SetDeadline(time.Now().Add(Timeout)); err != nil {
		t.Fatalf("set deadline on conn to %s: %v", addr, err)
	}
	return c.(*net.TCPConn)
}

// ChunkWrites returns c with its Write split into pieces of at most n bytes,
// each passed to c's own Write in turn. Over TCP (Go sets TCP_NODELAY) each
// piece usually leaves as its own segment, so the peer's Read sees the data
// arrive a little at a time, the way a slow network delivers it.
func ChunkWrites(c net.Conn, n int) net.Conn {
	if n < 1 {
		panic("testutil: ChunkWrites needs n >= 1")
	}
	return &chunkedConn{Conn: c, n: n}
}

type chunkedConn struct {
	net.Conn
	n int
}

func (c *chunkedConn) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		k := min(c.n, len(p))
		m, err := c.Conn.Write(p[:k])
		written += m
		if err != nil {
			return written, err
		}
		p = p[k:]
	}
	return written, nil
}

// CloseWrite half-closes the underlying connection when it supports it (a
// *net.TCPConn does), so wrapping a conn does not hide CloseWrite.
func (c *chunkedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}

// ChunkWritesListener wraps every connection ln accepts with ChunkWrites, so
// a real server under test writes to its clients n bytes at a time.
func ChunkWritesListener(ln net.Listener, n int) net.Listener {
	return &chunkedListener{Listener: ln, n: n}
}

type chunkedListener struct {
	net.Listener
	n int
}

func (l *chunkedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return ChunkWrites(c, l.n), nil
}

// SlowReads returns c with each Read limited to at most n bytes: a reader
// that drains slowly, so the peer's writes back up in the kernel buffers.
func SlowReads(c net.Conn, n int) net.Conn {
	if n < 1 {
		panic("testutil: SlowReads needs n >= 1")
	}
	return &slowConn{Conn: c, n: n}
}

type slowConn struct {
	net.Conn
	n int
}

func (c *slowConn) Read(p []byte) (int, error) {
	if len(p) > c.n {
		p = p[:c.n]
	}
	return c.Conn.Read(p)
}

// AcceptHook wraps ln so that onAccept is called, on the accepting goroutine,
// with every connection just before Accept returns it. Tests use it to learn
// when a server has taken a connection without sleeping.
func AcceptHook(ln net.Listener, onAccept func(net.Conn)) net.Listener {
	return &hookListener{Listener: ln, onAccept: onAccept}
}

type hookListener struct {
	net.Listener
	onAccept func(net.Conn)
}

func (l *hookListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.onAccept(c)
	}
	return c, err
}

var hostPort = regexp.MustCompile(`((?:\d{1,3}\.){3}\d{1,3}|\]|localhost):(\d+)\b`)

// MaskPorts returns s with every port number after an IPv4 address, an IPv6
// address in brackets or "localhost" replaced by PORT, except the ports
// listed in keep. Ephemeral ports differ on every run; the ports a README
// promises (5000, 65432) are kept so that a wrong one in the text is caught.
func MaskPorts(s string, keep ...string) string {
	return hostPort.ReplaceAllStringFunc(s, func(m string) string {
		sub := hostPort.FindStringSubmatch(m)
		if slices.Contains(keep, sub[2]) {
			return m
		}
		return sub[1] + ":PORT"
	})
}
