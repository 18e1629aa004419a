package echo_test

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	echo "example.com/sockets/02-echo"
	"example.com/sockets/02-echo/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// echoTo is echo.Echo bounded by the kit's timeout.
func echoTo(t *testing.T, addr string, msg []byte) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	return echo.Echo(ctx, addr, msg)
}

// randomBytes returns n bytes from a fixed seed: every byte value, NULs
// included, and the same bytes on every run.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestEchoIsByteExact(t *testing.T) {
	messages := []struct {
		name string
		msg  []byte
	}{
		{"empty", []byte{}},
		{"one byte", []byte("x")},
		{"hello", []byte("Hello, world")},
		{"binary with NULs", []byte("\x00\x01\x00\xff\xfe\x00")},
		{"UTF-8 emoji", []byte("héllo 🐶 🐾 🏐")},
		{"64 KiB", randomBytes(64 << 10)},
		{"4 MiB", randomBytes(4 << 20)}, // far more than the socket buffers hold
	}
	servers := []struct {
		name       string
		bufferSize int // 0: the default
		chunk      int // > 0: the server's writes leave this many bytes at a time
		maxLen     int // > 0: skip longer messages (a byte per write is slow)
	}{
		{name: "server writes as it reads"},
		// Every byte of the echo leaves in its own Write: the client's
		// reads see the echo arrive in pieces, and must put it together.
		{name: "server writes one byte at a time", chunk: 1, maxLen: 64 << 10},
		{name: "server reads 1024 bytes at a time", bufferSize: 1024},
	}
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			ln := testutil.Listen(t)
			if sv.chunk > 0 {
				ln = testutil.ChunkWritesListener(ln, sv.chunk)
			}
			r := testutil.StartServerOn(t, ln, &echo.Server{BufferSize: sv.bufferSize}, echo.ErrServerClosed)
			for _, m := range messages {
				t.Run(m.name, func(t *testing.T) {
					if sv.maxLen > 0 && len(m.msg) > sv.maxLen {
						t.Skipf("%d bytes is too many to write one at a time", len(m.msg))
					}
					got, err := echoTo(t, r.Addr, m.msg)
					require.NoError(t, err)
					// bytes.Equal, not cmp.Diff: a diff of 4 MiB
					// is no help to anyone.
					if !bytes.Equal(m.msg, got) {
						t.Errorf("echo of %d bytes differs: got %d bytes, first %q", len(m.msg), len(got), trim(got))
					}
				})
			}
		})
	}
}

func trim(b []byte) []byte { return b[:min(len(b), 32)] }

// TestReadReturnsWhatHasArrived shows the tutorial's warning in action: the
// peer sends "Hello, world" in two writes, and a Read with room for 1024
// bytes returns only what has arrived so far. io.ReadFull keeps reading
// until it has all it was asked for.
func TestReadReturnsWhatHasArrived(t *testing.T) {
	ln := testutil.Listen(t)
	client := testutil.Dial(t, ln.Addr().String())
	server, err := ln.Accept()
	require.NoError(t, err)
	defer server.Close()

	_, err = server.Write([]byte("Hello"))
	require.NoError(t, err)
	buf := make([]byte, 1024)
	n, err := client.Read(buf) // returns as soon as something has arrived
	require.NoError(t, err)
	assert.Equal(t, "Hello", string(buf[:n]), "one Read returns what has arrived, not the message")

	_, err = server.Write([]byte(", world"))
	require.NoError(t, err)
	rest := make([]byte, len(", world"))
	_, err = io.ReadFull(client, rest)
	require.NoError(t, err)
	assert.Equal(t, ", world", string(rest))
}

// TestSecondClientWaits: while the server echoes the first client, the
// second is connected (the kernel completed its handshake and queued it) but
// not accepted, and gets no echo. Only when the first client is done does
// the server accept the second.
func TestSecondClientWaits(t *testing.T) {
	accepted := make(chan string, 2)
	ln := testutil.AcceptHook(testutil.Listen(t), func(c net.Conn) { accepted <- c.RemoteAddr().String() })
	r := testutil.StartServerOn(t, ln, &echo.Server{}, echo.ErrServerClosed)

	first := testutil.Dial(t, r.Addr)
	roundTrip(t, first, "one")
	assert.Equal(t, first.LocalAddr().String(), testutil.Receive(t, accepted, "the first accept"))

	second := testutil.Dial(t, r.Addr) // succeeds: the kernel queues it
	_, err := second.Write([]byte("two"))
	require.NoError(t, err)

	// The first client is still being served...
	roundTrip(t, first, "still one")
	// ...so the second gets nothing: its Read waits until a deadline.
	second.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = second.Read(make([]byte, 3))
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "the second client must not be served yet")
	select {
	case addr := <-accepted:
		t.Fatalf("server accepted %s while the first client was still connected", addr)
	default:
	}

	require.NoError(t, first.Close()) // the server sees EOF and moves on
	assert.Equal(t, second.LocalAddr().String(), testutil.Receive(t, accepted, "the second accept"))
	second.SetReadDeadline(time.Now().Add(testutil.Timeout))
	got := make([]byte, 3)
	_, err = io.ReadFull(second, got)
	require.NoError(t, err)
	assert.Equal(t, "two", string(got))
}

// roundTrip sends msg on c and reads the same number of bytes back.
func roundTrip(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	_, err := c.Write([]byte(msg))
	require.NoError(t, err)
	got := make([]byte, len(msg))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	require.Equal(t, msg, string(got))
}

// TestHalfClose compares CloseWrite with Close. After CloseWrite the server
// reads EOF, echoes what it got and hangs up, and meanwhile the client can
// still read. After Close the client can do nothing more with the conn.
func TestHalfClose(t *testing.T) {
	t.Run("CloseWrite", func(t *testing.T) {
		var logged testutil.Buffer
		r := testutil.StartServer(t, &echo.Server{Log: log.New(&logged, "", 0)}, echo.ErrServerClosed)
		c := testutil.Dial(t, r.Addr)
		_, err := c.Write([]byte("abc"))
		require.NoError(t, err)
		require.NoError(t, c.CloseWrite())

		// The server has seen EOF and finished before we read a byte.
		want := fmt.Sprintf("echoed 3 bytes to %s\n", c.LocalAddr())
		testutil.WaitFor(t, "the server to log "+want, func() bool { return strings.HasSuffix(logged.String(), want) })

		got, err := io.ReadAll(c) // the echo, then EOF: the server closed too
		require.NoError(t, err)
		assert.Equal(t, "abc", string(got))
		_, err = c.Write([]byte("more"))
		assert.ErrorIs(t, err, syscall.EPIPE, "no writing after CloseWrite")
	})
	t.Run("Close", func(t *testing.T) {
		r := testutil.StartServer(t, &echo.Server{}, echo.ErrServerClosed)
		c := testutil.Dial(t, r.Addr)
		_, err := c.Write([]byte("abc"))
		require.NoError(t, err)
		require.NoError(t, c.Close())
		_, err = c.Read(make([]byte, 3))
		assert.ErrorIs(t, err, net.ErrClosed, "no reading after Close: the echo is lost")
	})
}

// TestServerDropsStuckClients: a client that sends nothing, or sends without
// ever reading its echo, would hold a one-at-a-time server forever. The
// server's Timeout drops it, and the next client is served.
func TestServerDropsStuckClients(t *testing.T) {
	tests := []struct {
		name      string
		stuck     func(t *testing.T, c *net.TCPConn) error // returns the error the stuck client sees
		wantStuck []error                                  // that error is one of these
		wantLog   string
	}{
		{
			name:      "client sends nothing",
			stuck:     func(t *testing.T, c *net.TCPConn) error { _, err := c.Read(make([]byte, 1)); return err },
			wantStuck: []error{syscall.ECONNRESET}, // the server reset it
			wantLog:   "read: read tcp",
		},
		{
			name: "client never reads",
			stuck: func(t *testing.T, c *net.TCPConn) error {
				// Write until the buffers on both sides are full and
				// the server's Write times out; it then resets the
				// connection.
				big := make([]byte, 1<<20)
				for {
					if _, err := c.Write(big); err != nil {
						return err
					}
				}
			},
			wantStuck: []error{syscall.ECONNRESET, syscall.EPIPE},
			wantLog:   "write: write tcp",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logged testutil.Buffer
			srv := &echo.Server{Log: log.New(&logged, "", 0), Timeout: 100 * time.Millisecond}
			r := testutil.StartServer(t, srv, echo.ErrServerClosed)

			stuck := testutil.Dial(t, r.Addr)
			errc := make(chan error, 1)
			go func() { errc <- tt.stuck(t, stuck) }()

			got, err := echoTo(t, r.Addr, []byte("next")) // waits for the stuck one to be dropped
			require.NoError(t, err)
			assert.Equal(t, "next", string(got))

			stuckErr := testutil.Receive(t, errc, "the stuck client's error")
			assert.True(t, slices.ContainsFunc(tt.wantStuck, func(e error) bool { return errors.Is(stuckErr, e) }),
				"the stuck client got %v, want one of %v", stuckErr, tt.wantStuck)
			assert.Contains(t, logged.String(), tt.wantLog)
			assert.Contains(t, logged.String(), "i/o timeout")
		})
	}
}

// TestCloseEndsTheClientBeingServed: Close does not wait for the client to
// finish: it closes the connection being served, and Serve returns.
func TestCloseEndsTheClientBeingServed(t *testing.T) {
	testutil.CheckLeaks(t)
	accepted := make(chan struct{}, 1)
	ln := testutil.AcceptHook(testutil.Listen(t), func(net.Conn) { accepted <- struct{}{} })
	srv := &echo.Server{}
	r := testutil.StartServerOn(t, ln, srv, echo.ErrServerClosed)

	c := testutil.Dial(t, r.Addr)
	roundTrip(t, c, "hi")
	testutil.Receive(t, accepted, "the accept")

	require.NoError(t, srv.Close())
	assert.ErrorIs(t, r.Wait(t), echo.ErrServerClosed)
	_, err := c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closed the client's connection")
	assert.NoError(t, srv.Close(), "a second Close is harmless")
}

func TestServeAfterClose(t *testing.T) {
	srv := &echo.Server{}
	require.NoError(t, srv.Close())
	assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), echo.ErrServerClosed)
}

func TestEchoErrors(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		addr := ln.Addr().String()
		ln.Close()
		_, err := echoTo(t, addr, []byte("hi"))
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
		assert.ErrorContains(t, err, addr)
	})

	// fakeServer accepts one connection and lets behave play the server;
	// stop is closed when the test is over.
	fakeServer := func(t *testing.T, behave func(c net.Conn, stop <-chan struct{})) string {
		ln := testutil.Listen(t)
		stop, done := make(chan struct{}), make(chan struct{})
		go func() {
			defer close(done)
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(testutil.Timeout))
			behave(c, stop)
		}()
		t.Cleanup(func() { close(stop); ln.Close(); <-done })
		return ln.Addr().String()
	}
	tests := []struct {
		name    string
		server  func(c net.Conn, stop <-chan struct{})
		timeout time.Duration
		want    string
		wantIs  error
	}{
		{
			// It reads everything first: a server that hangs up on
			// unread data resets the connection instead.
			name:   "server hangs up early",
			server: func(c net.Conn, _ <-chan struct{}) { io.Copy(io.Discard, c); c.Write([]byte("He")) },
			want:   "server closed the connection after echoing 2 of 12 bytes",
		},
		{
			name:   "server sends more",
			server: func(c net.Conn, _ <-chan struct{}) { io.Copy(io.Discard, c); c.Write([]byte("Hello, world!!")) },
			want:   "server sent more bytes than were sent to it",
		},
		{
			name:    "server never answers",
			server:  func(c net.Conn, stop <-chan struct{}) { io.Copy(io.Discard, c); <-stop },
			timeout: 50 * time.Millisecond,
			wantIs:  context.DeadlineExceeded,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, tt.server)
			ctx, cancel := context.WithTimeout(context.Background(), cmp.Or(tt.timeout, testutil.Timeout))
			defer cancel()
			_, err := echo.Echo(ctx, addr, []byte("Hello, world"))
			require.Error(t, err)
			if tt.want != "" {
				assert.ErrorContains(t, err, tt.want)
			}
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.ErrorContains(t, err, addr, "the error names the server")
		})
	}
}

// TestIPv6Loopback: the same server and client over [::1].
func TestIPv6Loopback(t *testing.T) {
	r := testutil.StartServerOn(t, testutil.ListenIPv6(t), &echo.Server{}, echo.ErrServerClosed)
	require.True(t, strings.HasPrefix(r.Addr, "[::1]:"), "address %q", r.Addr)
	got, err := echoTo(t, r.Addr, []byte("Hello, world"))
	require.NoError(t, err)
	assert.Equal(t, "Hello, world", string(got))
}
