package multiconn_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// randomBytes returns n bytes from a fixed seed: every byte value, and the
// same bytes on every run.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(5, 5))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// echo sends msg on c while it reads the echo, half-closes, and returns
// what came back before the server's EOF.
func echo(t testing.TB, c *net.TCPConn, msg []byte) []byte {
	t.Helper()
	return echoThrough(t, c, c, msg)
}

// echoThrough is echo writing through w, a wrapper of c such as
// testutil.ChunkWrites(c, 7).
func echoThrough(t testing.TB, c *net.TCPConn, w io.Writer, msg []byte) []byte {
	t.Helper()
	sent := make(chan error, 1)
	go func() {
		_, err := w.Write(msg)
		if err == nil {
			err = c.CloseWrite()
		}
		sent <- err
	}()
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	require.NoError(t, testutil.Receive(t, sent, "the write"))
	return got
}

// The server reads with a 512-byte buffer while a client is quiet and a
// 64 KiB one while data keeps coming; sizes around both matter.
func TestEchoIsByteExact(t *testing.T) {
	tests := []struct {
		name  string
		size  int
		chunk int // > 0: the client's writes leave this many bytes at a time
	}{
		{"empty", 0, 0},
		{"one byte", 1, 0},
		{"511 bytes", 511, 0},
		{"512 bytes", 512, 0},
		{"513 bytes", 513, 0},
		{"64 KiB", 64 << 10, 0},
		{"4 MiB", 4 << 20, 0},
		{"64 KiB, 7 bytes per write", 64 << 10, 7},
	}
	var logs testutil.Buffer
	srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	var total int64
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := randomBytes(tt.size)
			c := testutil.Dial(t, r.Addr)
			w := net.Conn(c)
			if tt.chunk > 0 {
				w = testutil.ChunkWrites(c, tt.chunk)
			}
			got := echoThrough(t, c, w, msg)
			assert.True(t, bytes.Equal(msg, got), "echo of %d bytes differs (got %d bytes)", len(msg), len(got))
			total += int64(len(msg))
		})
	}
	testutil.WaitFor(t, "every connection to close", func() bool { return srv.Stats().Open == 0 })
	st := srv.Stats()
	assert.Equal(t, multiconn.Stats{Total: int64(len(tests)), BytesIn: total, BytesOut: total}, st)
}

// The per-connection lines, in the tutorial's spirit.
func TestLogLines(t *testing.T) {
	var logs testutil.Buffer
	r := testutil.StartServer(t, &multiconn.Server{Log: log.New(&logs, "", 0)}, multiconn.ErrServerClosed)
	c := testutil.Dial(t, r.Addr)
	_, err := io.WriteString(c, "Message 1 from client.")
	require.NoError(t, err)
	got := make([]byte, 22)
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	assert.Equal(t, "Message 1 from client.", string(got))
	assert.Equal(t, strings.Repeat("x", 100), string(echo(t, c, []byte(strings.Repeat("x", 100)))))

	addr := c.LocalAddr().String()
	testutil.WaitFor(t, "the closing line", func() bool { return strings.Contains(logs.String(), "closing") })
	want := fmt.Sprintf("listening on %s\n"+
		"accepted connection from %[2]s\n"+
		"echoing \"Message 1 from client.\" to %[2]s\n"+
		"echoing \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"... (100 bytes) to %[2]s\n"+
		"closing connection to %[2]s: 122 bytes in, 122 out\n", r.Addr, addr)
	assert.Equal(t, want, logs.String())
}

// One byte is "1 byte", not "1 bytes".
func TestLogLinesCountInTheSingular(t *testing.T) {
	var logs testutil.Buffer
	r := testutil.StartServer(t, &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true}, multiconn.ErrServerClosed)
	c := testutil.Dial(t, r.Addr)
	assert.Equal(t, "x", string(echo(t, c, []byte("x"))))
	testutil.WaitFor(t, "the closing line", func() bool { return strings.Contains(logs.String(), "closing") })
	assert.Contains(t, logs.String(), "\nclosing connection to "+c.LocalAddr().String()+": 1 byte in, 1 out\n")
}

func TestIdleTimeoutDropsOnlySilentClients(t *testing.T) {
	const idle = 500 * time.Millisecond
	var logs testutil.Buffer
	srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true, IdleTimeout: idle}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)

	silent := testutil.Dial(t, r.Addr)
	dropped := make(chan error, 1)
	go func() {
		_, err := silent.Read(make([]byte, 1))
		dropped <- err
	}()
	// The active client talks without pause until the silent one has
	// been dropped: it is never idle for anything like 500ms.
	active := testutil.Dial(t, r.Addr)
	buf := make([]byte, 4)
	for i := 0; ; i++ {
		_, err := io.WriteString(active, "ping")
		require.NoError(t, err)
		_, err = io.ReadFull(active, buf)
		require.NoError(t, err, "the active client was dropped")
		select {
		case err := <-dropped:
			assert.ErrorIs(t, err, syscall.ECONNRESET, "the silent client is dropped with a reset")
			assert.Contains(t, logs.String(), "closing connection to "+silent.LocalAddr().String()+": idle for 500ms (0 bytes in, 0 out)\n")
			assert.EqualValues(t, 1, srv.Stats().Open)
			return
		default:
		}
		require.Less(t, i, 10_000_000, "the silent client was never dropped")
	}
}

func TestMaxConns(t *testing.T) {
	var logs testutil.Buffer
	srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true, MaxConns: 2}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	ping := func(c *net.TCPConn) {
		t.Helper()
		_, err := io.WriteString(c, "ping")
		require.NoError(t, err)
		buf := make([]byte, 4)
		_, err = io.ReadFull(c, buf)
		require.NoError(t, err)
	}
	a, b := testutil.Dial(t, r.Addr), testutil.Dial(t, r.Addr)
	ping(a)
	ping(b)

	extra := testutil.Dial(t, r.Addr)
	told, err := io.ReadAll(extra)
	require.NoError(t, err)
	assert.Equal(t, multiconn.BusyMessage, string(told))
	assert.EqualValues(t, 1, srv.Stats().Refused)
	assert.Contains(t, logs.String(), "refused connection from "+extra.LocalAddr().String()+": 2 connections open\n")

	// Once one leaves, there is room again.
	require.NoError(t, a.Close())
	testutil.WaitFor(t, "the server to notice", func() bool { return srv.Stats().Open == 1 })
	ping(testutil.Dial(t, r.Addr))
	ping(b)
}

// Peers that reset, or vanish in the middle of a message, affect nobody
// else.
func TestBadPeersDoNotHurtOthers(t *testing.T) {
	tests := []struct {
		name  string
		misdo func(t *testing.T, srv *multiconn.Server, c *net.TCPConn)
	}{
		{
			name: "reset mid-message",
			misdo: func(t *testing.T, srv *multiconn.Server, c *net.TCPConn) {
				_, err := io.WriteString(c, "half a mess")
				require.NoError(t, err)
				require.NoError(t, c.SetLinger(0)) // Close sends RST, not FIN
				require.NoError(t, c.Close())
			},
		},
		{
			name: "sends a lot, reads nothing, and vanishes",
			misdo: func(t *testing.T, srv *multiconn.Server, c *net.TCPConn) {
				// Its echo backs up, so the server is soon
				// waiting in Write; then the peer is gone.
				wrote := make(chan error, 1)
				go func() {
					_, err := c.Write(randomBytes(8 << 20))
					wrote <- err
				}()
				testutil.WaitFor(t, "the echo to start", func() bool { return srv.Stats().BytesOut > 0 })
				require.NoError(t, c.SetLinger(0))
				require.NoError(t, c.Close())
				assert.Error(t, testutil.Receive(t, wrote, "the bad client's Write to end"))
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs testutil.Buffer
			srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
			others := []*net.TCPConn{testutil.Dial(t, r.Addr), testutil.Dial(t, r.Addr)}
			bad := testutil.Dial(t, r.Addr)
			badAddr := bad.LocalAddr().String()
			// A round trip first: the server is serving it.
			_, err := io.WriteString(bad, "hi")
			require.NoError(t, err)
			_, err = io.ReadFull(bad, make([]byte, 2))
			require.NoError(t, err)
			tt.misdo(t, srv, bad)

			// The server notices in its Read or in its Write,
			// whichever comes first.
			closed := regexp.MustCompile("closing connection to " + regexp.QuoteMeta(badAddr) + ": (read|write): ")
			testutil.WaitFor(t, "the server to close the bad connection", func() bool {
				return closed.MatchString(logs.String())
			})
			for _, c := range others {
				msg := randomBytes(100 << 10)
				assert.True(t, bytes.Equal(msg, echo(t, c, msg)))
			}
			testutil.WaitFor(t, "every connection to close", func() bool { return srv.Stats().Open == 0 })
		})
	}
}

// A client that sends and never reads is dropped once a write to it has
// waited WriteTimeout. The client keeps its default buffers. Shrinking
// its receive buffer after connecting, below the window it has already
// offered, makes its kernel drop data the server sends; about one run in
// a hundred, the connection then stalled with the server's receive queue
// empty and the client waiting for the server's window to open, so the
// server never had a write to time out. (man 7 tcp: set SO_RCVBUF before
// connect.) Filling the default buffers takes some megabytes.
func TestWriteTimeout(t *testing.T) {
	var logs testutil.Buffer
	srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true, WriteTimeout: 100 * time.Millisecond}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	c := testutil.Dial(t, r.Addr)
	failed := make(chan error, 1)
	go func() {
		chunk := make([]byte, 64<<10)
		for range 1 << 12 { // at most 256 MiB
			if _, err := c.Write(chunk); err != nil {
				failed <- err
				return
			}
		}
		failed <- errors.New("wrote 256 MiB without being dropped")
	}()
	err := testutil.Receive(t, failed, "the client's Write to fail")
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "got %v", err)
	timedOut := regexp.MustCompile("closing connection to " + regexp.QuoteMeta(c.LocalAddr().String()) + `: write: .*i/o timeout`)
	testutil.WaitFor(t, "the server to log the timeout", func() bool { return timedOut.MatchString(logs.String()) })
}

// next returns the first line logged from now on that starts with prefix.
func (w logLines) next(t *testing.T, prefix string) string {
	t.Helper()
	for {
		line := testutil.Receive(t, w.lines, "a log line starting "+prefix)
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

// A client that stops reading is dropped, by the idle timeout or by the
// write timeout, with its echo still unsent in the server's kernel. The
// server resets the connection rather than close it normally: the kernel
// frees the socket and its buffers at once, and the client, as soon as it
// reads again, gets what reached it and then "connection reset by peer".
// A normal close would have queued the FIN behind the unsent echo, and
// the kernel would have kept it for minutes while the client stayed.
func TestDroppedClientIsReset(t *testing.T) {
	t.Run("idle, with its echo unread", func(t *testing.T) {
		logs := logLines{make(chan string, 100)}
		srv := &multiconn.Server{Log: log.New(logs, "", 0), Quiet: true, IdleTimeout: 100 * time.Millisecond}
		r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
		c := testutil.Dial(t, r.Addr)
		msg := randomBytes(10 << 10) // fits in the buffers: the server echoes it all
		_, err := c.Write(msg)
		require.NoError(t, err)

		line := logs.next(t, "closing connection to "+c.LocalAddr().String())
		assert.Contains(t, line, ": idle for 100ms (10240 bytes in, 10240 out)")
		readReset(t, c, msg)
	})

	t.Run("an echo it does not take", func(t *testing.T) {
		// A small send buffer on the server's side, as on a slow
		// network, makes the buffers fill after some kilobytes.
		ln := testutil.AcceptHook(testutil.Listen(t), func(c net.Conn) { c.(*net.TCPConn).SetWriteBuffer(8 << 10) })
		logs := logLines{make(chan string, 100)}
		srv := &multiconn.Server{Log: log.New(logs, "", 0), Quiet: true, WriteTimeout: 100 * time.Millisecond}
		r := testutil.StartServerOn(t, ln, srv, multiconn.ErrServerClosed)
		c := testutil.Dial(t, r.Addr)
		logs.next(t, "accepted connection from "+c.LocalAddr().String())

		// Send 16 KiB at a time, and the next only once the server has
		// read and echoed the last: when its echo waits, the server
		// has read everything, so no unread input makes its kernel
		// reset the connection by itself.
		chunk := randomBytes(16 << 10)
		var sent []byte
		for len(logs.lines) == 0 {
			require.Less(t, len(sent), 64<<20, "the server echoed 64 MiB without waiting")
			_, err := c.Write(chunk)
			require.NoError(t, err)
			sent = append(sent, chunk...)
			testutil.WaitFor(t, "the server to read what was sent", func() bool { return srv.Stats().BytesIn == int64(len(sent)) })
			testutil.WaitFor(t, "the echo, or the drop", func() bool { return srv.Stats().BytesOut == int64(len(sent)) || len(logs.lines) > 0 })
		}
		line := logs.next(t, "closing connection to "+c.LocalAddr().String())
		assert.Regexp(t, `: write: write tcp4? \S+: i/o timeout \(\d+ bytes in, \d+ out\)$`, line)
		readReset(t, c, sent)
	})
}

// readReset reads from c, within a second, what reached it of want, and
// fails unless the connection then ends with a reset.
func readReset(t *testing.T, c *net.TCPConn, want []byte) {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
	got, err := io.ReadAll(c)
	assert.ErrorIs(t, err, syscall.ECONNRESET, "after %d of %d bytes", len(got), len(want))
	assert.True(t, bytes.HasPrefix(want, got), "%d bytes that are not the start of the echo", len(got))
}

func TestCloseEndsEverything(t *testing.T) {
	testutil.CheckLeaks(t)
	srv := &multiconn.Server{Quiet: true}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	var conns []*net.TCPConn
	for range 10 {
		c := testutil.Dial(t, r.Addr)
		_, err := io.WriteString(c, "hi")
		require.NoError(t, err)
		_, err = io.ReadFull(c, make([]byte, 2))
		require.NoError(t, err)
		conns = append(conns, c)
	}
	require.EqualValues(t, 10, srv.Stats().Open)

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	assert.NoError(t, testutil.Receive(t, closed, "Close to return"))
	assert.ErrorIs(t, r.Wait(t), multiconn.ErrServerClosed)
	assert.EqualValues(t, 0, srv.Stats().Open)
	for _, c := range conns {
		rest, err := io.ReadAll(c)
		assert.NoError(t, err)
		assert.Empty(t, rest)
	}
	assert.NoError(t, srv.Close(), "a second Close")
	assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), multiconn.ErrServerClosed, "Serve after Close")
}

// Many connections at once, each with its own goroutine and its own
// counters; the server's totals add up.
func TestManyConnectionsAtOnce(t *testing.T) {
	for _, n := range []int{1, 10, 500} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			srv := &multiconn.Server{Quiet: true}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
			conns := make([]*net.TCPConn, n)
			for i := range conns {
				conns[i] = testutil.Dial(t, r.Addr)
			}
			var wg sync.WaitGroup
			for i, c := range conns {
				wg.Go(func() {
					msg := fmt.Appendf(nil, "Message 1 from client %d.Message 2 from client %d.", i, i)
					if _, err := c.Write(msg); err != nil {
						t.Error(err)
						return
					}
					got := make([]byte, len(msg))
					if _, err := io.ReadFull(c, got); err != nil || !bytes.Equal(got, msg) {
						t.Errorf("connection %d: got %q, %v", i, got, err)
					}
					c.Close()
				})
			}
			wg.Wait()
			testutil.WaitFor(t, "every connection to close", func() bool { return srv.Stats().Open == 0 })
			st := srv.Stats()
			assert.EqualValues(t, n, st.Total)
			assert.Equal(t, st.BytesIn, st.BytesOut)
		})
	}
}

// A listener closed behind the server's back ends Serve with an error; it
// does not make Serve retry for ever.
func TestServeReturnsWhenListenerFails(t *testing.T) {
	ln := testutil.Listen(t)
	srv := &multiconn.Server{}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	testutil.Dial(t, ln.Addr().String()) // Serve is accepting
	testutil.WaitFor(t, "the connection to be accepted", func() bool { return srv.Stats().Total == 1 })
	require.NoError(t, ln.Close())
	err := testutil.Receive(t, done, "Serve to return")
	assert.ErrorIs(t, err, net.ErrClosed)
	assert.NotErrorIs(t, err, multiconn.ErrServerClosed)
	require.NoError(t, srv.Close())
}

// failingListener's Accept fails with errno, as the kernel's accept4 would,
// the first fails times it is called; then it accepts.
type failingListener struct {
	net.Listener
	errno syscall.Errno
	fails int
	calls int // only Serve's goroutine calls Accept
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.calls++; l.calls <= l.fails {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", l.errno)}
	}
	return l.Listener.Accept()
}

// Out of descriptors or kernel memory, Accept fails; Serve logs it and
// tries again, and the next client is served. Any other Accept error ends
// Serve.
func TestServeRetriesAcceptWhenOutOfResources(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			var logs testutil.Buffer
			ln := &failingListener{Listener: testutil.Listen(t), errno: errno, fails: 2}
			srv := &multiconn.Server{Log: log.New(&logs, "", 0), Quiet: true}
			r := testutil.StartServerOn(t, ln, srv, multiconn.ErrServerClosed)
			c := testutil.Dial(t, r.Addr)
			assert.Equal(t, "hello", string(echo(t, c, []byte("hello"))))
			line := fmt.Sprintf("accept: accept tcp %s: accept4: %v\n", r.Addr, errno)
			assert.Equal(t, 2, strings.Count(logs.String(), line), logs.String())
		})
	}

	t.Run("another error", func(t *testing.T) {
		ln := &failingListener{Listener: testutil.Listen(t), errno: syscall.EPERM, fails: 1}
		r := testutil.StartServerOn(t, ln, &multiconn.Server{}, syscall.EPERM)
		assert.EqualError(t, r.Wait(t), "accept: accept tcp "+r.Addr+": accept4: operation not permitted")
	})
}
