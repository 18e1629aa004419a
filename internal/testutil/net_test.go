package testutil

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil/internal/fake"
)

var errClosed = errors.New("test server closed")

// greeter is the smallest Server: it writes "hi" to each client and closes.
type greeter struct {
	mu       sync.Mutex
	ln       net.Listener
	closed   bool
	serveErr error // what Serve returns once closed
}

func (g *greeter) Serve(ln net.Listener) error {
	g.mu.Lock()
	if g.closed { // Close came first
		g.mu.Unlock()
		ln.Close()
		return g.serveErr
	}
	g.ln = ln
	g.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.closed {
				return g.serveErr
			}
			return err
		}
		c.Write([]byte("hi"))
		c.Close()
	}
}

func (g *greeter) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.ln == nil {
		return nil
	}
	return g.ln.Close()
}

func TestStartServer(t *testing.T) {
	CheckLeaks(t)
	srv := &greeter{serveErr: errClosed}
	r := StartServer(t, srv, errClosed)

	c := Dial(t, r.Addr)
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(got))
}

func TestStartServerStopsAndWaitsAtCleanup(t *testing.T) {
	srv := &greeter{serveErr: errClosed}
	var r *Running
	f := fake.Run(t, func(tb testing.TB) { r = StartServer(tb, srv, errClosed) })
	assert.Empty(t, f.Report())
	assert.ErrorIs(t, r.Wait(t), errClosed, "Serve should have returned at cleanup")
}

func TestStartServerReportsUnexpectedServeError(t *testing.T) {
	other := errors.New("something else")
	f := fake.Run(t, func(tb testing.TB) { StartServer(tb, &greeter{serveErr: other}, errClosed) })
	assert.Contains(t, f.Report(), "returned something else, want test server closed")
}

func TestListenIPv6(t *testing.T) {
	ln := ListenIPv6(t) // skips where there is no ::1
	addr := ln.Addr().(*net.TCPAddr)
	assert.True(t, addr.IP.Equal(net.IPv6loopback), "got %v", addr.IP)
	assert.NotZero(t, addr.Port)
}

func TestDialClosesAtCleanup(t *testing.T) {
	ln := Listen(t)
	f := fake.Run(t, func(tb testing.TB) { Dial(tb, ln.Addr().String()) })
	require.Empty(t, f.Report())

	// The fake test is over, so its conn is closed: the server side reads EOF.
	c, err := ln.Accept()
	require.NoError(t, err)
	defer c.Close()
	n, err := c.Read(make([]byte, 1))
	assert.Equal(t, 0, n)
	assert.ErrorIs(t, err, io.EOF)
}

func TestDialRefused(t *testing.T) {
	ln := Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	f := fake.Run(t, func(tb testing.TB) { Dial(tb, addr) })
	assert.Contains(t, f.Report(), "dial "+addr)
}

// readAll reads c until EOF and returns what each Read returned.
func readAll(t *testing.T, c net.Conn) []string {
	t.Helper()
	var reads []string
	buf := make([]byte, 1024)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			reads = append(reads, string(buf[:n]))
		}
		if errors.Is(err, io.EOF) {
			return reads
		}
		require.NoError(t, err)
	}
}

// net.Pipe has no buffer: each Read gets at most what one Write sent, so the
// tests below see exactly how the wrappers cut the data.

func TestChunkWrites(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want []string
	}{
		{"1 byte", 1, []string{"H", "e", "l", "l", "o", ",", " ", "w", "o", "r", "l", "d"}},
		{"5 bytes", 5, []string{"Hello", ", wor", "ld"}},
		{"bigger than the data", 100, []string{"Hello, world"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := net.Pipe()
			defer b.Close()
			errc := make(chan error, 1)
			go func() {
				_, err := ChunkWrites(a, tt.n).Write([]byte("Hello, world"))
				a.Close()
				errc <- err
			}()
			got := readAll(t, b)
			require.NoError(t, Receive(t, errc, "the write"))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
		})
	}
}

func TestSlowReads(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go func() {
		a.Write([]byte("abcde"))
		a.Close()
	}()
	got := readAll(t, SlowReads(b, 2))
	if diff := cmp.Diff([]string{"ab", "cd", "e"}, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}

func TestChunkWritesKeepsCloseWrite(t *testing.T) {
	ln := Listen(t)
	client := ChunkWrites(Dial(t, ln.Addr().String()), 1)
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()

	cw, ok := client.(interface{ CloseWrite() error })
	require.True(t, ok, "the wrapper should keep CloseWrite")
	_, err = client.Write([]byte("bye"))
	require.NoError(t, err)
	require.NoError(t, cw.CloseWrite())
	got, err := io.ReadAll(server)
	require.NoError(t, err)
	assert.Equal(t, "bye", string(got))

	p, _ := net.Pipe()
	defer p.Close()
	err = ChunkWrites(p, 1).(interface{ CloseWrite() error }).CloseWrite()
	assert.ErrorIs(t, err, errors.ErrUnsupported)
}

func TestChunkWritesListener(t *testing.T) {
	ln := ChunkWritesListener(Listen(t), 4)
	c := Dial(t, ln.Addr().String())
	s, err := ln.Accept()
	require.NoError(t, err)
	defer s.Close()
	_, ok := s.(*chunkedConn)
	assert.True(t, ok, "accepted conn is %T, want the chunking wrapper", s)
	_, err = s.Write([]byte("Hello, world"))
	require.NoError(t, err)
	buf := make([]byte, 12)
	_, err = io.ReadFull(c, buf)
	require.NoError(t, err)
	assert.Equal(t, "Hello, world", string(buf))
}

func TestAcceptHook(t *testing.T) {
	accepted := make(chan net.Addr, 1)
	ln := AcceptHook(Listen(t), func(c net.Conn) { accepted <- c.RemoteAddr() })
	c := Dial(t, ln.Addr().String())
	s, err := ln.Accept()
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, c.LocalAddr().String(), Receive(t, accepted, "the hook").String())
}

func TestMaskPorts(t *testing.T) {
	tests := []struct{ in, want string }{
		{"listening on 127.0.0.1:5000", "listening on 127.0.0.1:5000"},
		{"connection from 127.0.0.1:51234", "connection from 127.0.0.1:PORT"},
		{"dial [::1]:40000 and localhost:8080", "dial [::1]:PORT and localhost:PORT"},
		{"LISTEN 0 4096 127.0.0.1:5000 0.0.0.0:*", "LISTEN 0 4096 127.0.0.1:5000 0.0.0.0:*"},
		{"no address here: 12345", "no address here: 12345"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, MaskPorts(tt.in, "5000"), "MaskPorts(%q)", tt.in)
	}
}
