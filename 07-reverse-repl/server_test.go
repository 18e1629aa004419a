package reverse_test

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reverse "example.com/sockets/07-reverse-repl"
	"example.com/sockets/07-reverse-repl/internal/testutil"
)

// startLoggingServer starts srv on a fresh 127.0.0.1:0 listener with its
// Log going to the returned buffer. The server is closed at cleanup, and
// the test fails if Serve then returns anything but reverse.ErrServerClosed.
func startLoggingServer(t testing.TB, srv *reverse.Server) (*testutil.Running, *testutil.Buffer) {
	t.Helper()
	logs := new(testutil.Buffer)
	srv.Log = log.New(logs, "", 0)
	return testutil.StartServer(t, srv, reverse.ErrServerClosed), logs
}

// tutorialClient is the tutorial's client side: it connects to addr, sends
// text in one Write, reads until the server closes, and closes. It returns
// the answer and the client's address, which is how the server's log
// names it.
func tutorialClient(t testing.TB, addr, text string) (answer, peer string) {
	t.Helper()
	c := testutil.Dial(t, addr)
	_, err := io.WriteString(c, text)
	require.NoError(t, err)
	answer = readToEOF(t, c)
	require.NoError(t, c.Close())
	return answer, c.LocalAddr().String()
}

// readToEOF reads what is left on c and fails unless the server ended the
// stream cleanly: io.ReadAll returns a nil error only at io.EOF, so a
// reset (or the test's own deadline) fails the test.
func readToEOF(t testing.TB, c net.Conn) string {
	t.Helper()
	b, err := io.ReadAll(c)
	require.NoError(t, err, "read to EOF; got %q before the error", b)
	return string(b)
}

// serverClosingLines returns the log's "closing connection to PEER" lines
// about peer, with or without what follows (": error" or " (ignored ...)"),
// and none about another address that starts like peer.
func serverClosingLines(logs, peer string) []string {
	prefix := "closing connection to " + peer
	var lines []string
	for line := range strings.Lines(logs) {
		line = strings.TrimSuffix(line, "\n")
		if line == prefix || strings.HasPrefix(line, prefix+": ") || strings.HasPrefix(line, prefix+" (") {
			lines = append(lines, line)
		}
	}
	return lines
}

// waitServerClosingLine waits until the log has the closing line about
// peer, the last line the server writes about a connection, and returns
// the only one there is.
func waitServerClosingLine(t testing.TB, logs *testutil.Buffer, peer string) string {
	t.Helper()
	testutil.WaitFor(t, "the closing line about "+peer, func() bool { return len(serverClosingLines(logs.String(), peer)) > 0 })
	lines := serverClosingLines(logs.String(), peer)
	require.Len(t, lines, 1, "closing lines about %s in:\n%s", peer, logs)
	return lines[0]
}

// waitConnectionLine waits until the server has logged that it took the
// connection from peer: its goroutine is then reading.
func waitConnectionLine(t testing.TB, logs *testutil.Buffer, peer string) {
	t.Helper()
	testutil.WaitFor(t, "the server to take the connection from "+peer, func() bool {
		return strings.Contains(logs.String(), "connection from "+peer+"\n")
	})
}

// The tutorial's session: the client sends "Hello, world!" and reads
// "!dlrow ,olleH", then EOF (not a reset: ReadAll returns no error), and
// the zero Server does it.
func TestServerTutorialExchange(t *testing.T) {
	r := testutil.StartServer(t, &reverse.Server{}, reverse.ErrServerClosed)
	c := testutil.Dial(t, r.Addr)
	n, err := io.WriteString(c, helloWorld)
	require.NoError(t, err)
	assert.Equal(t, 13, n)

	buf := make([]byte, 1024) // the tutorial's recv(1024)
	n, err = c.Read(buf)
	require.NoError(t, err)
	assert.Equal(t, helloWorldBack, string(buf[:n]))
	n, err = c.Read(buf)
	assert.ErrorIs(t, err, io.EOF, "the tutorial's b'': the server has closed")
	assert.Zero(t, n)
}

// What one client gets for what it sends in one write, and every line
// the server logs about it. The read size cases show the server's one
// read: more than ReadSize is not answered (but read and counted, so the
// client gets EOF rather than a reset), and in rune mode a read that ends
// partway through a rune is topped up to the end of it.
func TestServerAnswers(t *testing.T) {
	long := strings.Repeat("0123456789", 150) // 1500 bytes: more than DefaultReadSize
	tests := []struct {
		name     string
		bytes    bool // ReverseBytes
		readSize int
		send     string
		want     string // the answer
		received string // what the server took in; "" means send
		ignored  int    // bytes read and dropped after the answer
	}{
		{name: "the tutorial's text", send: helloWorld, want: helloWorldBack},
		{name: "the tutorial's text, bytes", bytes: true, send: helloWorld, want: helloWorldBack},
		{name: "UTF-8 text", send: dogText, want: dogTextByRunes},
		{name: "UTF-8 text, bytes: not UTF-8", bytes: true, send: dogText, want: dogTextByBytes},
		{name: "invalid byte kept", send: "a\xffb", want: "b\xffa"},
		{name: "a newline, as nc sends", send: helloWorld + "\n", want: "\n" + helloWorldBack},

		{name: "more than ReadSize", readSize: 5, send: helloWorld, want: "olleH", received: "Hello", ignored: 8},
		{name: "more than DefaultReadSize", send: long, want: string(reverse.Runes([]byte(long[:1024]))), received: long[:1024], ignored: 476},
		{name: "exactly ReadSize", readSize: 13, send: helloWorld, want: helloWorldBack},

		// Rune mode: a read cut in the middle of a rune reads the rest of
		// it, one byte at a time.
		{name: "read ends in a 2-byte rune", readSize: 2, send: "aé", want: "éa"},
		{name: "read ends after 1 of 4 bytes", readSize: 1, send: "🐶", want: "🐶"},
		{name: "read ends after 1 of 4 bytes, more follows", readSize: 2, send: "a🐶b", want: "🐶a", received: "a🐶", ignored: 1},
		{name: "read ends after 3 of 4 bytes", readSize: 4, send: "ab🐶", want: "🐶ba"},
		{name: "read ends on a rune boundary", readSize: 1, send: "héllo", want: "h", received: "h", ignored: 5},
		{name: "read ends on an invalid byte", readSize: 3, send: "ab\xffcd", want: "\xffba", received: "ab\xff", ignored: 2},
		// E0 starts a 3-byte rune, but E0 80 can start none: the top-up
		// stops at the byte that shows it.
		{name: "top-up stops at an invalid byte", readSize: 2, send: "a\xe0\x80b", want: "\x80\xe0a", received: "a\xe0\x80", ignored: 1},

		// Bytes mode takes the read as it is.
		{name: "bytes: no top-up", bytes: true, readSize: 1, send: "é", want: "\xc3", received: "\xc3", ignored: 1},
		{name: "bytes: read ends in a rune", bytes: true, readSize: 2, send: "aé", want: "\xc3a", received: "a\xc3", ignored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &reverse.Server{ReverseBytes: tt.bytes, ReadSize: tt.readSize}
			r, logs := startLoggingServer(t, srv)
			got, peer := tutorialClient(t, r.Addr, tt.send)
			assert.Equal(t, tt.want, got)

			received := tt.received
			if received == "" {
				received = tt.send
			}
			closing := "closing connection to " + peer
			switch {
			case tt.ignored == 1:
				closing += " (ignored 1 more byte from it)"
			case tt.ignored > 1:
				closing += fmt.Sprintf(" (ignored %d more bytes from it)", tt.ignored)
			}
			assert.Equal(t, closing, waitServerClosingLine(t, logs, peer))
			want := "listening on " + r.Addr + "\n" +
				"connection from " + peer + "\n" +
				fmt.Sprintf("received %d bytes from %s: %s\n", len(received), peer, logged(received)) +
				fmt.Sprintf("sent %d bytes to %s: %s\n", len(tt.want), peer, logged(tt.want)) +
				closing + "\n"
			assert.Equal(t, want, logs.String())
		})
	}
}

// logged is how the server's log shows s, when s is ASCII: quoted, and cut
// after 200 bytes (TestLogQuote has the rest of the rule).
func logged(s string) string {
	if len(s) > 200 {
		return fmt.Sprintf("%q...", s[:200])
	}
	return fmt.Sprintf("%q", s)
}

// A client that writes one byte at a time: the server's one read gets
// whatever has arrived, 1 byte or more, and never answers half a rune.
func TestServerAnswersAClientThatWritesByteByByte(t *testing.T) {
	// "é" is 2 bytes: the read gets 1 of them and tops up, or gets both.
	// Either way the answer is whole.
	t.Run("one 2-byte rune", func(t *testing.T) {
		r, logs := startLoggingServer(t, &reverse.Server{})
		c := testutil.Dial(t, r.Addr)
		_, err := testutil.ChunkWrites(c, 1).Write([]byte("é"))
		require.NoError(t, err)
		assert.Equal(t, "é", readToEOF(t, c))
		require.NoError(t, c.Close())
		peer := c.LocalAddr().String()
		assert.Equal(t, "closing connection to "+peer, waitServerClosingLine(t, logs, peer))
		assert.Contains(t, logs.String(), `received 2 bytes from `+peer+`: "é"`+"\n")
	})

	// A longer text: how much the read gets depends on timing, so check
	// what holds for any amount. The answer is the reversal of a part of
	// the text that starts at its start and ends between two runes; the
	// rest was read and ignored.
	t.Run("text", func(t *testing.T) {
		r, logs := startLoggingServer(t, &reverse.Server{})
		c := testutil.Dial(t, r.Addr)
		_, err := testutil.ChunkWrites(c, 1).Write([]byte(dogText))
		require.NoError(t, err)
		got := readToEOF(t, c)
		require.NoError(t, c.Close())

		require.NotEmpty(t, got)
		assert.True(t, utf8.ValidString(got), "answer %q is not UTF-8: a rune was cut", got)
		taken := string(reverse.Runes([]byte(got)))
		assert.True(t, strings.HasPrefix(dogText, taken), "answer %q is not the start of %q reversed", got, dogText)

		peer := c.LocalAddr().String()
		closing := "closing connection to " + peer
		switch ignored := len(dogText) - len(taken); {
		case ignored == 1:
			closing += " (ignored 1 more byte from it)"
		case ignored > 1:
			closing += fmt.Sprintf(" (ignored %d more bytes from it)", ignored)
		}
		assert.Equal(t, closing, waitServerClosingLine(t, logs, peer))
	})
}

// A client that sends the first byte of a rune and no more. If it shuts
// down its side, the server's top-up read gets EOF, and the server answers
// the bytes that came: the receive doc says an error that ends the extra
// reads is dropped. It says so for any error, so a client that stalls
// instead must get the same answer once the Timeout ends the top-up.
func TestServerAnswersARuneTheClientNeverFinishes(t *testing.T) {
	tests := []struct {
		name       string
		closeWrite bool
	}{
		{"client shuts down its side", true},
		{"client stalls", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, logs := startLoggingServer(t, &reverse.Server{Timeout: 100 * time.Millisecond})
			c := testutil.Dial(t, r.Addr)
			_, err := io.WriteString(c, "a\xc3")
			require.NoError(t, err)
			if tt.closeWrite {
				require.NoError(t, c.CloseWrite())
			}
			assert.Equal(t, "\xc3a", readToEOF(t, c))
			require.NoError(t, c.Close())

			peer := c.LocalAddr().String()
			assert.Equal(t, "closing connection to "+peer, waitServerClosingLine(t, logs, peer))
			assert.Contains(t, logs.String(), fmt.Sprintf("received 2 bytes from %s: %q\n", peer, "a\xc3"))
			assert.Contains(t, logs.String(), fmt.Sprintf("sent 2 bytes to %s: %q\n", peer, "\xc3a"))
		})
	}
}

// Fifty clients at once, each with its own text: each gets its own text
// reversed, whatever order the server takes them in.
func TestServerManyClientsAtOnce(t *testing.T) {
	const clients = 50
	r := testutil.StartServer(t, &reverse.Server{}, reverse.ErrServerClosed)
	conns := make([]*net.TCPConn, clients)
	for i := range conns {
		conns[i] = testutil.Dial(t, r.Addr)
	}
	type result struct {
		i      int
		answer string
		err    error
	}
	start := make(chan struct{})
	results := make(chan result, clients)
	for i, c := range conns {
		go func() {
			<-start
			res := result{i: i}
			if _, res.err = fmt.Fprintf(c, "client %d: héllo 🐶", i); res.err == nil {
				var b []byte
				b, res.err = io.ReadAll(c)
				res.answer = string(b)
			}
			results <- res
		}()
	}
	close(start)
	for range clients {
		res := testutil.Receive(t, results, "a client's answer")
		if assert.NoError(t, res.err, "client %d", res.i) {
			assert.Equal(t, string(reverse.Runes(fmt.Appendf(nil, "client %d: héllo 🐶", res.i))), res.answer, "client %d", res.i)
		}
	}
}

// A client that shuts down its sending side without sending anything
// gets no answer, just EOF, and the server says why.
func TestServerClientSendsNothing(t *testing.T) {
	r, logs := startLoggingServer(t, &reverse.Server{})
	c := testutil.Dial(t, r.Addr)
	require.NoError(t, c.CloseWrite())
	assert.Empty(t, readToEOF(t, c))
	require.NoError(t, c.Close())

	peer := c.LocalAddr().String()
	assert.Equal(t, "closing connection to "+peer, waitServerClosingLine(t, logs, peer))
	want := "listening on " + r.Addr + "\n" +
		"connection from " + peer + "\n" +
		"received nothing from " + peer + ": it shut down its sending side\n" +
		"closing connection to " + peer + "\n"
	assert.Equal(t, want, logs.String())
}

// A client that sends nothing is hung up on after Timeout: it reads EOF,
// and the log says how long the server waited.
func TestServerTimeout(t *testing.T) {
	r, logs := startLoggingServer(t, &reverse.Server{Timeout: 100 * time.Millisecond})
	c := testutil.Dial(t, r.Addr)
	assert.Empty(t, readToEOF(t, c))

	peer := c.LocalAddr().String()
	assert.Equal(t, "closing connection to "+peer+": nothing received for 100ms", waitServerClosingLine(t, logs, peer))
	want := "listening on " + r.Addr + "\n" +
		"connection from " + peer + "\n" +
		"closing connection to " + peer + ": nothing received for 100ms\n"
	assert.Equal(t, want, logs.String())
}

// A client that connects and says nothing does not keep the server from
// answering another one meanwhile, and is answered itself when it speaks.
func TestServerSilentClientDoesNotHoldUpAnother(t *testing.T) {
	r, logs := startLoggingServer(t, &reverse.Server{})
	silent := testutil.Dial(t, r.Addr)
	waitConnectionLine(t, logs, silent.LocalAddr().String())

	got, _ := tutorialClient(t, r.Addr, helloWorld)
	assert.Equal(t, helloWorldBack, got, "served while the silent client waits")
	assert.Empty(t, serverClosingLines(logs.String(), silent.LocalAddr().String()), "the silent client is still connected")

	_, err := io.WriteString(silent, "abc")
	require.NoError(t, err)
	assert.Equal(t, "cba", readToEOF(t, silent))
}

// Clients that go away at any point, cleanly or with a reset, cost the
// server one log line each, and nothing else: the next client is served.
func TestServerSurvivesClientsThatVanish(t *testing.T) {
	reset := func(t *testing.T, c *net.TCPConn) {
		// Linger 0 makes Close send a reset instead of a FIN.
		require.NoError(t, c.SetLinger(0))
		require.NoError(t, c.Close())
	}
	tests := []struct {
		name   string
		vanish func(t *testing.T, c *net.TCPConn)
	}{
		{"closes at once", func(t *testing.T, c *net.TCPConn) { require.NoError(t, c.Close()) }},
		{"resets at once", reset},
		{"sends, then closes", func(t *testing.T, c *net.TCPConn) {
			_, err := io.WriteString(c, helloWorld)
			require.NoError(t, err)
			require.NoError(t, c.Close())
		}},
		{"sends, then resets", func(t *testing.T, c *net.TCPConn) {
			_, err := io.WriteString(c, helloWorld)
			require.NoError(t, err)
			reset(t, c)
		}},
		{"sends half a rune, then resets", func(t *testing.T, c *net.TCPConn) {
			_, err := io.WriteString(c, "a\xf0\x9f")
			require.NoError(t, err)
			reset(t, c)
		}},
		{"sends more than ReadSize, then resets", func(t *testing.T, c *net.TCPConn) {
			_, err := io.WriteString(c, strings.Repeat("x", 3000))
			require.NoError(t, err)
			reset(t, c)
		}},
	}
	r, logs := startLoggingServer(t, &reverse.Server{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testutil.Dial(t, r.Addr)
			peer := c.LocalAddr().String()
			waitConnectionLine(t, logs, peer)
			tt.vanish(t, c)
			waitServerClosingLine(t, logs, peer)

			got, _ := tutorialClient(t, r.Addr, helloWorld)
			assert.Equal(t, helloWorldBack, got, "the next client")
		})
	}
}

// Close with clients connected: two that have sent nothing, and one that
// has its answer but has not closed (the server is waiting for it to).
// Close returns once their goroutines are done, Serve returns
// ErrServerClosed, every client reads EOF, and nothing is left running.
func TestServerCloseWithClientsConnected(t *testing.T) {
	testutil.CheckLeaks(t)
	srv := &reverse.Server{}
	r, logs := startLoggingServer(t, srv)

	waiting := []*net.TCPConn{testutil.Dial(t, r.Addr), testutil.Dial(t, r.Addr)}
	for _, c := range waiting {
		waitConnectionLine(t, logs, c.LocalAddr().String())
	}
	answered := testutil.Dial(t, r.Addr)
	_, err := io.WriteString(answered, helloWorld)
	require.NoError(t, err)
	assert.Equal(t, helloWorldBack, readToEOF(t, answered))

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	require.NoError(t, testutil.Receive(t, closed, "Close to return"))
	require.ErrorIs(t, r.Wait(t), reverse.ErrServerClosed)

	for _, c := range waiting {
		assert.Empty(t, readToEOF(t, c), "a waiting client")
		peer := c.LocalAddr().String()
		assert.Equal(t, "closing connection to "+peer+": server stopped", waitServerClosingLine(t, logs, peer))
	}
	peer := answered.LocalAddr().String()
	assert.Equal(t, "closing connection to "+peer, waitServerClosingLine(t, logs, peer))

	assert.NoError(t, srv.Close(), "Close twice")
}

// Serve after Close returns ErrServerClosed at once, and closes the
// listener it was given, as it does when it returns for any reason.
func TestServerServeAfterClose(t *testing.T) {
	srv := &reverse.Server{}
	require.NoError(t, srv.Close())
	ln := testutil.Listen(t)
	assert.ErrorIs(t, srv.Serve(ln), reverse.ErrServerClosed)
	assert.ErrorIs(t, ln.Close(), net.ErrClosed, "Serve left the listener open")
}

// A Server serves one listener, and Close stops Serve, waiting in Accept
// after its first client: Serve returns ErrServerClosed, and has closed the
// listener.
func TestServerCloseStopsServe(t *testing.T) {
	srv := &reverse.Server{}
	ln := testutil.Listen(t)
	r := testutil.StartServerOn(t, ln, srv, reverse.ErrServerClosed)
	got, _ := tutorialClient(t, r.Addr, helloWorld)
	assert.Equal(t, helloWorldBack, got)
	require.NoError(t, srv.Close())
	assert.ErrorIs(t, r.Wait(t), reverse.ErrServerClosed)
	assert.ErrorIs(t, ln.Close(), net.ErrClosed, "Serve left the listener open")
}

// A listener closed behind the server's back is not a Close: Serve returns
// the Accept error, not ErrServerClosed.
func TestServerReturnsTheAcceptError(t *testing.T) {
	ln := testutil.Listen(t)
	srv := &reverse.Server{}
	r := testutil.StartServerOn(t, ln, srv, net.ErrClosed)
	got, _ := tutorialClient(t, r.Addr, helloWorld)
	require.Equal(t, helloWorldBack, got)

	require.NoError(t, ln.Close())
	err := r.Wait(t)
	require.ErrorIs(t, err, net.ErrClosed)
	assert.False(t, errors.Is(err, reverse.ErrServerClosed), "%v", err)
	assert.True(t, strings.HasPrefix(err.Error(), "accept: "), "%v", err)
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

// An Accept that fails for want of descriptors or memory does not stop
// the server: it logs the error, tries again, and answers the next client.
// Any other failure stops Serve with that error.
func TestServerRetriesAcceptWhenOutOfResources(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			ln := &failingListener{Listener: testutil.Listen(t), errno: errno, fails: 2}
			logs := new(testutil.Buffer)
			r := testutil.StartServerOn(t, ln, &reverse.Server{Log: log.New(logs, "", 0)}, reverse.ErrServerClosed)
			got, _ := tutorialClient(t, r.Addr, helloWorld)
			assert.Equal(t, helloWorldBack, got)
			line := fmt.Sprintf("accept: accept tcp %s: accept4: %v; trying again in 50ms\n", r.Addr, errno)
			assert.Equal(t, 2, strings.Count(logs.String(), line), logs.String())
		})
	}

	t.Run("another error", func(t *testing.T) {
		ln := &failingListener{Listener: testutil.Listen(t), errno: syscall.EPERM, fails: 1}
		r := testutil.StartServerOn(t, ln, &reverse.Server{}, syscall.EPERM)
		err := r.Wait(t)
		assert.EqualError(t, err, "accept: accept tcp "+r.Addr+": accept4: operation not permitted")
		assert.ErrorIs(t, ln.Close(), net.ErrClosed, "Serve closed the listener")
	})
}
