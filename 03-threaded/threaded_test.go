package threaded_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	threaded "example.com/sockets/03-threaded"
	"example.com/sockets/03-threaded/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// welcome is the greeting as a line reader returns it.
var welcome = strings.TrimSuffix(threaded.Welcome, "\n")

// client is a test's side of one connection, reading line by line.
type client struct {
	t    *testing.T
	conn *net.TCPConn
	r    *bufio.Reader
}

// connect dials addr and reads the welcome.
func connect(t *testing.T, addr string) *client {
	t.Helper()
	c := &client{t: t, conn: testutil.Dial(t, addr)}
	c.r = bufio.NewReader(c.conn)
	require.Equal(t, welcome, c.readLine(), "first line from the server")
	return c
}

func (c *client) send(s string) {
	c.t.Helper()
	_, err := io.WriteString(c.conn, s)
	require.NoError(c.t, err)
}

func (c *client) readLine() string {
	c.t.Helper()
	line, err := c.r.ReadString('\n')
	require.NoError(c.t, err, "read a line; got %q so far", line)
	return strings.TrimSuffix(line, "\n")
}

// readToEOF reads what is left and fails unless the connection ends with
// a normal EOF.
func (c *client) readToEOF() string {
	c.t.Helper()
	rest, err := io.ReadAll(c.r)
	require.NoError(c.t, err, "read to EOF; got %q", rest)
	return string(rest)
}

func TestAnswersEveryLine(t *testing.T) {
	tests := []struct {
		name   string
		writes []string // written one after the other, then CloseWrite
		want   []string // the replies, in order
	}{
		{"one line", []string{"hello\n"}, []string{"OK...hello"}},
		{"the tutorial's session", []string{"hello\n", "how are you\n"}, []string{"OK...hello", "OK...how are you"}},
		{"telnet ends lines with \\r\\n", []string{"hello\r\n"}, []string{"OK...hello"}},
		{"empty line", []string{"\n"}, []string{"OK..."}},
		{"UTF-8", []string{"héllo 🐶\n"}, []string{"OK...héllo 🐶"}},
		{"three lines in one write", []string{"a\nb\nc\n"}, []string{"OK...a", "OK...b", "OK...c"}},
		{"a line in three writes", []string{"he", "ll", "o\n"}, []string{"OK...hello"}},
		{"last line without newline", []string{"a\nbye"}, []string{"OK...a", "OK...bye"}},
		{"nothing", nil, nil},
	}
	for _, chunk := range []int{0, 1} {
		for _, tt := range tests {
			name := tt.name
			if chunk > 0 {
				name += ", byte by byte"
			}
			t.Run(name, func(t *testing.T) {
				r := testutil.StartServer(t, &threaded.Server{}, threaded.ErrServerClosed)
				c := connect(t, r.Addr)
				w := net.Conn(c.conn)
				if chunk > 0 {
					// Every byte leaves in its own Write: the server's
					// reads see the lines arrive in pieces.
					w = testutil.ChunkWrites(c.conn, chunk)
				}
				for _, s := range tt.writes {
					_, err := io.WriteString(w, s)
					require.NoError(t, err)
				}
				require.NoError(t, c.conn.CloseWrite())

				var want string
				for _, line := range tt.want {
					want += line + "\n"
				}
				assert.Equal(t, want, c.readToEOF())
			})
		}
	}
}

// readSpy is a listener whose connections report each Read's result on
// reads: it lets a test see the server's reads as they happen.
type readSpy struct {
	net.Listener
	reads chan string
}

func (l *readSpy) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &spiedConn{Conn: c, reads: l.reads}, nil
}

type spiedConn struct {
	net.Conn
	reads chan string
}

func (c *spiedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.reads <- string(p[:n])
	}
	return n, err
}

// The tutorial's server answers each recv: when "hello\n" arrives in two
// pieces, it answers "OK...hel" and "OK...lo". This server answers lines.
func TestAReadIsNotALine(t *testing.T) {
	spy := &readSpy{Listener: testutil.Listen(t), reads: make(chan string, 10)}
	r := testutil.StartServerOn(t, spy, &threaded.Server{}, threaded.ErrServerClosed)
	c := connect(t, r.Addr)

	c.send("hel")
	assert.Equal(t, "hel", testutil.Receive(t, spy.reads, "the server's first read"))
	c.send("lo\n")
	assert.Equal(t, "lo\n", testutil.Receive(t, spy.reads, "the server's second read"))
	assert.Equal(t, "OK...hello", c.readLine(), "two reads, one line, one reply")
}

// Fifty clients are connected at the same time: each has had its welcome
// before any of them sends a line. With chapter 02's server, the second
// would still be waiting for Accept.
func TestManyClientsAtOnce(t *testing.T) {
	const clients, lines = 50, 20
	r := testutil.StartServer(t, &threaded.Server{}, threaded.ErrServerClosed)

	conns := make([]*client, clients)
	for i := range conns {
		conns[i] = connect(t, r.Addr)
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			// Not c.send and c.readLine: they call t.FailNow, which
			// must not be called from another goroutine.
			for j := range lines {
				line := fmt.Sprintf("client %d line %d", i, j)
				if _, err := io.WriteString(c.conn, line+"\n"); err != nil {
					t.Errorf("client %d: %v", i, err)
					return
				}
				got, err := c.r.ReadString('\n')
				if err != nil || got != "OK..."+line+"\n" {
					t.Errorf("client %d: got %q, %v; want the reply to %q", i, got, err, line)
					return
				}
			}
		})
	}
	wg.Wait()
}

// A client that connects and says nothing holds its own goroutine, and
// nothing else: another client comes, talks and goes while it waits.
func TestSilentClientDoesNotDelayOthers(t *testing.T) {
	var log testutil.Buffer
	r := testutil.StartServer(t, &threaded.Server{Log: newLogger(&log)}, threaded.ErrServerClosed)
	silent := connect(t, r.Addr)

	other := connect(t, r.Addr)
	other.send("hello\n")
	assert.Equal(t, "OK...hello", other.readLine())
	require.NoError(t, other.conn.CloseWrite())
	assert.Empty(t, other.readToEOF())

	// The silent client is still connected and served.
	silent.send("still here\n")
	assert.Equal(t, "OK...still here", silent.readLine())
	assert.Contains(t, log.String(), other.conn.LocalAddr().String()+" disconnected after 1 line\n")
	assert.NotContains(t, log.String(), silent.conn.LocalAddr().String()+" disconnected")
}

func newLogger(w io.Writer) *log.Logger { return log.New(w, "", 0) }

func TestLineLimit(t *testing.T) {
	const limit = 16 // counting the newline
	tests := []struct {
		name    string
		line    string
		tooLong bool
	}{
		{"15 bytes and \\n", strings.Repeat("x", 15) + "\n", false},
		{"16 bytes and \\n", strings.Repeat("x", 16) + "\n", true},
		{"14 bytes and \\r\\n", strings.Repeat("x", 14) + "\r\n", false},
		{"15 bytes and \\r\\n", strings.Repeat("x", 15) + "\r\n", true},
		{"100 KiB", strings.Repeat("x", 100<<10) + "\n", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log testutil.Buffer
			r := testutil.StartServer(t, &threaded.Server{Log: newLogger(&log), MaxLineLength: limit}, threaded.ErrServerClosed)
			other := connect(t, r.Addr)
			c := connect(t, r.Addr)

			// Written on its own goroutine: once the server has given up
			// on the line, nobody may read the rest of a big one.
			written := make(chan error, 1)
			go func() {
				_, err := io.WriteString(c.conn, tt.line)
				written <- err
			}()
			if !tt.tooLong {
				assert.Equal(t, "OK..."+strings.TrimRight(tt.line, "\r\n"), c.readLine())
				require.NoError(t, testutil.Receive(t, written, "the write"))
				return
			}
			// One clear line, then a normal end: no reset, even though
			// the client sent more than the server read.
			assert.Equal(t, "error: line longer than 16 bytes\n", c.readToEOF())
			require.NoError(t, testutil.Receive(t, written, "the write"))
			assert.Contains(t, log.String(), c.conn.LocalAddr().String()+": line too long: more than 16 bytes; disconnected after 0 lines\n")

			// The other client carries on.
			other.send("hello\n")
			assert.Equal(t, "OK...hello", other.readLine())
		})
	}
}

func TestCloseEndsEveryConnection(t *testing.T) {
	testutil.CheckLeaks(t)
	srv := &threaded.Server{}
	r := testutil.StartServer(t, srv, threaded.ErrServerClosed)

	var idle []*client
	for range 5 {
		idle = append(idle, connect(t, r.Addr))
	}
	midLine := connect(t, r.Addr)
	midLine.send("half a li")
	// A client that sends and never reads: soon the server's Write to it
	// blocks, as its buffers are full. Close must end that too.
	flood := connect(t, r.Addr)
	flooding := make(chan error, 1)
	go func() {
		line := []byte(strings.Repeat("x", 1000) + "\n")
		for {
			if _, err := flood.conn.Write(line); err != nil {
				flooding <- err
				return
			}
		}
	}()

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	assert.NoError(t, testutil.Receive(t, closed, "Close to return"))
	assert.ErrorIs(t, r.Wait(t), threaded.ErrServerClosed)

	for _, c := range append(idle, midLine) {
		assert.Empty(t, c.readToEOF(), "Close says no goodbye")
	}
	// The flooder's data was never read, so the kernel answered it with
	// a reset: its next Write fails.
	err := testutil.Receive(t, flooding, "the flooding client's Write to fail")
	assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "got %v", err)

	// Close again is fine, and a new Serve ends at once.
	assert.NoError(t, srv.Close())
	assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), threaded.ErrServerClosed)
}

func TestShutdownSaysGoodbye(t *testing.T) {
	testutil.CheckLeaks(t)
	var log testutil.Buffer
	srv := &threaded.Server{Log: newLogger(&log)}
	r := testutil.StartServer(t, srv, threaded.ErrServerClosed)

	var clients []*client
	for range 3 {
		clients = append(clients, connect(t, r.Addr))
	}
	talker := connect(t, r.Addr)
	talker.send("hello\n")
	assert.Equal(t, "OK...hello", talker.readLine())
	talker.send("half a li")
	clients = append(clients, talker)

	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	// Each client hears Goodbye, then EOF, and hangs up, as
	// threaded-client does. Had the server simply closed, the half line
	// it had not read would have turned its FIN into a reset.
	for _, c := range clients {
		assert.Equal(t, threaded.Goodbye, c.readToEOF())
		c.conn.Close()
	}
	assert.NoError(t, testutil.Receive(t, done, "Shutdown to return"))
	assert.ErrorIs(t, r.Wait(t), threaded.ErrServerClosed)
	assert.Contains(t, log.String(), talker.conn.LocalAddr().String()+": server shutting down; disconnected after 1 line\n")

	// No new client gets in.
	_, err := net.DialTimeout("tcp", r.Addr, testutil.Timeout)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
}

// stuckListener gives the server connections whose Write never returns
// until the connection is closed: a client that never reads, without
// having to fill the kernel's buffers first. Each Write announces itself
// on writing.
type stuckListener struct {
	net.Listener
	writing chan struct{}
}

func (l *stuckListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &stuckConn{Conn: c, writing: l.writing, closed: make(chan struct{})}, nil
}

type stuckConn struct {
	net.Conn
	writing chan struct{}
	once    sync.Once
	closed  chan struct{}
}

func (c *stuckConn) Write(p []byte) (int, error) {
	c.writing <- struct{}{}
	<-c.closed
	return 0, net.ErrClosed
}

func (c *stuckConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Conn.Close()
}

// Shutdown waits for a reply that is being written; when its context ends
// first, it closes the connection anyway.
func TestShutdownGivesUpWhenContextEnds(t *testing.T) {
	testutil.CheckLeaks(t)
	ln := &stuckListener{Listener: testutil.Listen(t), writing: make(chan struct{}, 1)}
	srv := &threaded.Server{}
	r := testutil.StartServerOn(t, ln, srv, threaded.ErrServerClosed)
	c := testutil.Dial(t, r.Addr)
	testutil.Receive(t, ln.writing, "the server to write the welcome")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	cancel()
	assert.ErrorIs(t, testutil.Receive(t, done, "Shutdown to return"), context.Canceled)
	assert.ErrorIs(t, r.Wait(t), threaded.ErrServerClosed)

	rest, err := io.ReadAll(c)
	assert.NoError(t, err)
	assert.Empty(t, rest)
}

// A client that says nothing is dropped once the timeout has passed, and
// learns it from a reset: see TestDroppedClientIsReset.
func TestTimeoutDropsSilentClient(t *testing.T) {
	var log testutil.Buffer
	r := testutil.StartServer(t, &threaded.Server{Log: newLogger(&log), Timeout: 50 * time.Millisecond}, threaded.ErrServerClosed)
	c := connect(t, r.Addr)
	rest, err := io.ReadAll(c.r)
	assert.Empty(t, rest)
	assert.ErrorIs(t, err, syscall.ECONNRESET)
	addr := c.conn.LocalAddr().String()
	testutil.WaitFor(t, "the server to log the timeout", func() bool {
		return strings.Contains(log.String(), addr+": no line for 50ms; disconnected after 0 lines\n")
	})
}

// logLines is a log destination that hands each line to a channel as the
// server writes it, so that a test can act the moment a line is logged.
type logLines chan string

func (l logLines) Write(p []byte) (int, error) {
	l <- string(p)
	return len(p), nil
}

// next returns the first line logged from now on that starts with prefix.
func (l logLines) next(t *testing.T, prefix string) string {
	t.Helper()
	for {
		line := testutil.Receive(t, (<-chan string)(l), "a log line starting "+prefix)
		if strings.HasPrefix(line, prefix) {
			return line
		}
	}
}

// A client that stops reading is dropped when a timeout passes, with its
// replies still unsent in the server's kernel. The server resets the
// connection rather than close it normally: the kernel frees the socket
// and its buffers at once, and the client, as soon as it reads again,
// gets its data and then "connection reset by peer". A normal close
// would have queued the FIN behind the unsent replies, and the kernel
// would have kept them for minutes while the client stayed.
func TestDroppedClientIsReset(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration
		sndbuf  int    // > 0: the server's send buffer, in bytes
		send    string // sent at once, then the client reads nothing
		why     string // what the server logs after the address, a regexp
	}{
		{
			name:    "quiet, with replies unread",
			timeout: 100 * time.Millisecond,
			send:    "hello\nhow are you\nanyone there?\n",
			why:     `^: no line for 100ms; disconnected after 3 lines\n$`,
		},
		{
			// A small send buffer on the server's side, as on a slow
			// network, lets a 256 KiB reply fill the buffers.
			name:    "a reply it does not take",
			timeout: time.Second,
			sndbuf:  8 << 10,
			send:    strings.Repeat("x", 256<<10) + "\n",
			why:     `^: write tcp4? \S+: i/o timeout; disconnected after 0 lines\n$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := make(logLines, 100)
			ln := testutil.Listen(t)
			if tt.sndbuf > 0 {
				ln = testutil.AcceptHook(ln, func(c net.Conn) { c.(*net.TCPConn).SetWriteBuffer(tt.sndbuf) })
			}
			srv := &threaded.Server{Log: newLogger(logs), Timeout: tt.timeout, MaxLineLength: 1 << 20}
			r := testutil.StartServerOn(t, ln, srv, threaded.ErrServerClosed)
			c := testutil.Dial(t, r.Addr)
			// Sent before the server waits for a line: the
			// timeout runs only once the client has gone quiet.
			sent := make(chan error, 1)
			go func() {
				_, err := io.WriteString(c, tt.send)
				sent <- err
			}()
			require.NoError(t, testutil.Receive(t, sent, "the lines to be sent"))

			addr := c.LocalAddr().String()
			assert.Regexp(t, tt.why, strings.TrimPrefix(logs.next(t, addr+":"), addr))
			// Within a second of that line, the client reads what
			// reached it, then the reset.
			require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
			got, err := io.ReadAll(c)
			assert.ErrorIs(t, err, syscall.ECONNRESET, "after %d bytes", len(got))
			want := threaded.Welcome
			for l := range strings.Lines(tt.send) {
				want += threaded.ReplyPrefix + l
			}
			assert.Less(t, len(got), len(want)+1, "the client got more than it was sent")
			assert.True(t, strings.HasPrefix(want, string(got)), "got %q..., not a prefix of the replies", got[:min(len(got), 80)])
		})
	}
}

func TestIPv6Loopback(t *testing.T) {
	ln := testutil.ListenIPv6(t)
	r := testutil.StartServerOn(t, ln, &threaded.Server{}, threaded.ErrServerClosed)
	var out bytes.Buffer
	require.NoError(t, talk(t, &threaded.Client{}, r.Addr, "hello\n", &out))
	assert.Equal(t, threaded.Welcome+"OK...hello\n", out.String())
}

// talk is Client.Talk bounded by the kit's timeout.
func talk(t *testing.T, c *threaded.Client, addr, in string, out io.Writer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	return c.Talk(ctx, addr, strings.NewReader(in), out)
}

func TestTalk(t *testing.T) {
	r := testutil.StartServer(t, &threaded.Server{MaxLineLength: 16}, threaded.ErrServerClosed)
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{"two lines", "hello\nhow are you\n", threaded.Welcome + "OK...hello\nOK...how are you\n", ""},
		{"no input", "", threaded.Welcome, ""},
		{"last line without newline", "a\nb", threaded.Welcome + "OK...a\nOK...b\n", ""},
		{"\\r\\n", "a\r\n", threaded.Welcome + "OK...a\n", ""},
		{"line too long", "hello\n" + strings.Repeat("x", 20) + "\nnever answered\n",
			threaded.Welcome + "OK...hello\nerror: line longer than 16 bytes\n",
			`unexpected reply "error: line longer than 16 bytes" to line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := talk(t, &threaded.Client{}, r.Addr, tt.in, &out)
			assert.Equal(t, tt.want, out.String())
			if tt.wantErr == "" {
				assert.NoError(t, err)
			} else {
				assert.ErrorContains(t, err, tt.wantErr)
			}
		})
	}
}

// fakeServer accepts one connection and hands it to serve; it is how the
// client's tests get servers that misbehave. The connection is closed when
// serve returns; testDone is closed when the test is over.
func fakeServer(t *testing.T, serve func(c net.Conn, testDone <-chan struct{})) string {
	t.Helper()
	ln := testutil.Listen(t)
	testDone, served := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(testutil.Timeout))
		serve(conn, testDone)
	}()
	t.Cleanup(func() {
		close(testDone)
		ln.Close()
		testutil.Receive(t, served, "the fake server to finish")
	})
	return ln.Addr().String()
}

func TestTalkErrors(t *testing.T) {
	// The fake servers read everything the client sends, then answer.
	drain := func(c net.Conn) { io.Copy(io.Discard, c) }
	tests := []struct {
		name    string
		serve   func(c net.Conn, testDone <-chan struct{})
		in      string
		timeout time.Duration
		wantErr string
	}{
		{
			name:    "wrong welcome",
			serve:   func(c net.Conn, _ <-chan struct{}) { drain(c); io.WriteString(c, "Hi\n") },
			in:      "hello\n",
			wantErr: `: unexpected greeting "Hi"`,
		},
		{
			name:    "wrong welcome, nothing sent",
			serve:   func(c net.Conn, _ <-chan struct{}) { drain(c); io.WriteString(c, "Hi\n") },
			wantErr: `: unexpected greeting "Hi"`,
		},
		{
			name:    "wrong reply",
			serve:   func(c net.Conn, _ <-chan struct{}) { drain(c); io.WriteString(c, threaded.Welcome+"OK...HELLO\n") },
			in:      "hello\n",
			wantErr: `: unexpected reply "OK...HELLO" to line 1`,
		},
		{
			// Shutdown's Goodbye is no reply, and no surprise either.
			name:    "goodbye",
			serve:   func(c net.Conn, _ <-chan struct{}) { drain(c); io.WriteString(c, threaded.Welcome+threaded.Goodbye) },
			in:      "a\n",
			wantErr: `: the server is shutting down`,
		},
		{
			name: "a line nobody asked for",
			serve: func(c net.Conn, _ <-chan struct{}) {
				drain(c)
				io.WriteString(c, threaded.Welcome+"OK...a\nsurprise\n")
			},
			in:      "a\n",
			wantErr: `: unexpected line "surprise"`,
		},
		{
			// Shown escaped and cut short: a server cannot make the
			// client print a huge line, or a line of its choosing.
			name: "a long reply with control bytes",
			serve: func(c net.Conn, _ <-chan struct{}) {
				drain(c)
				io.WriteString(c, threaded.Welcome+longReply+"\n")
			},
			in:      "a\n",
			wantErr: fmt.Sprintf(": unexpected reply %q... (%d bytes) to line 1", longReply[:64], len(longReply)),
		},
		{
			// Every byte escapes to four characters: the cut is in
			// bytes, so the line stays short all the same.
			name: "a reply of DEL bytes",
			serve: func(c net.Conn, _ <-chan struct{}) {
				drain(c)
				io.WriteString(c, threaded.Welcome+strings.Repeat("\x7f", 300)+"\n")
			},
			in:      "a\n",
			wantErr: ": unexpected reply \"" + strings.Repeat(`\x7f`, 64) + "\"... (300 bytes) to line 1",
		},
		{
			name:    "hangs up without answering",
			serve:   func(c net.Conn, _ <-chan struct{}) { drain(c); io.WriteString(c, threaded.Welcome) },
			in:      "a\nb\n",
			wantErr: " closed the connection with 2 replies due",
		},
		{
			name:    "never answers",
			serve:   func(c net.Conn, testDone <-chan struct{}) { drain(c); <-testDone },
			in:      "a\n",
			timeout: 50 * time.Millisecond,
			wantErr: ": no reply within 50ms: i/o timeout",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fakeServer(t, tt.serve)
			err := talk(t, &threaded.Client{Timeout: tt.timeout}, addr, tt.in, io.Discard)
			assert.ErrorContains(t, err, addr+tt.wantErr)
			checkLogLines(t, err.Error()+"\n", ".*")
		})
	}
}

// longReply is a line a server could send: a carriage return, DEL, bytes
// that are not UTF-8, and 100 KiB more.
var longReply = "OK...\rforged\x7f\xff\xfe" + strings.Repeat("x", 100<<10)

// The client waits for the server to say something only while a reply is
// due: with no line sent and the welcome in, it waits for its input.
func TestTalkWaitsForInputWithoutTimeout(t *testing.T) {
	r := testutil.StartServer(t, &threaded.Server{}, threaded.ErrServerClosed)
	in, w := io.Pipe()
	defer w.Close()
	var out testutil.Buffer
	done := make(chan error, 1)
	go func() {
		done <- (&threaded.Client{Timeout: 10 * time.Millisecond}).Talk(context.Background(), r.Addr, in, &out)
	}()
	testutil.WaitFor(t, "the welcome", func() bool { return out.String() == threaded.Welcome })
	// Much longer than the client's Timeout passes here in a slow test
	// run, and the client must not care. Then the user types:
	_, err := io.WriteString(w, "hello\n")
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.NoError(t, testutil.Receive(t, done, "Talk to return"))
	assert.Equal(t, threaded.Welcome+"OK...hello\n", out.String())
}

func TestTalkContext(t *testing.T) {
	t.Run("canceled while waiting for input", func(t *testing.T) {
		r := testutil.StartServer(t, &threaded.Server{}, threaded.ErrServerClosed)
		in, w := io.Pipe()
		defer w.Close() // ends the goroutine that reads in
		var out testutil.Buffer
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- (&threaded.Client{}).Talk(ctx, r.Addr, in, &out) }()
		testutil.WaitFor(t, "the welcome", func() bool { return out.String() == threaded.Welcome })
		cancel()
		assert.ErrorIs(t, testutil.Receive(t, done, "Talk to return"), context.Canceled)
	})
	t.Run("connection refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		err := talk(t, &threaded.Client{}, addr, "hello\n", io.Discard)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	})
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

// Out of descriptors or kernel memory, Accept fails; Serve logs it, tries
// again and serves the next client. Any other Accept error ends Serve.
func TestServeRetriesAcceptWhenOutOfResources(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			var log testutil.Buffer
			ln := &failingListener{Listener: testutil.Listen(t), errno: errno, fails: 2}
			r := testutil.StartServerOn(t, ln, &threaded.Server{Log: newLogger(&log)}, threaded.ErrServerClosed)
			var out bytes.Buffer
			require.NoError(t, talk(t, &threaded.Client{}, r.Addr, "hello\n", &out))
			assert.Equal(t, threaded.Welcome+"OK...hello\n", out.String())
			line := fmt.Sprintf("accept: accept tcp %s: accept4: %v\n", r.Addr, errno)
			assert.Equal(t, 2, strings.Count(log.String(), line), log.String())
		})
	}

	t.Run("another error", func(t *testing.T) {
		ln := &failingListener{Listener: testutil.Listen(t), errno: syscall.EPERM, fails: 1}
		r := testutil.StartServerOn(t, ln, &threaded.Server{}, syscall.EPERM)
		assert.EqualError(t, r.Wait(t), "accept: accept tcp "+r.Addr+": accept4: operation not permitted")
	})
}

// hostileInputs are what a client may send to forge a line in the
// server's log, or to make one huge.
var hostileInputs = []struct{ name, send string }{
	{"a long line", strings.Repeat("x", 100<<10) + "\n"},
	{"a line break, then a forged line", "hello\nlistening on 10.9.8.7:6543: forged\n"},
	{"carriage returns", "hello\rforged\r\n"},
	{"DEL", strings.Repeat("\x7f", 300) + "\n"},
	{"bytes that are not UTF-8", "\xff\xfe\xc3\x28 forged\n"},
	{"all of them, again and again", strings.Repeat("\x7f\xff\r\n\rforged\n", 8<<10)},
}

// maxLogLine bounds a log line, whatever a peer sends: the 64 bytes an
// error shows of a line escape to 4 characters each at most, and the rest
// of the line (an address, a size, a reason) is short.
const maxLogLine = 4*64 + 100

// checkLogLines fails t unless every line of logs ends with a line break,
// matches one of patterns (regular expressions, each matched against the
// whole line), is at most maxLogLine bytes long, and is valid UTF-8 with
// no control character in it: no client byte was written raw.
func checkLogLines(t *testing.T, logs string, patterns ...string) {
	t.Helper()
	whole := regexp.MustCompile(`^(?:` + strings.Join(patterns, "|") + `)$`)
	for line := range strings.Lines(logs) {
		assert.True(t, strings.HasSuffix(line, "\n"), "log line %q does not end with a line break", line)
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), maxLogLine, "log line %.80q... is too long", line)
		assert.True(t, utf8.ValidString(line), "log line %q is not UTF-8", line)
		assert.False(t, strings.ContainsFunc(line, unicode.IsControl), "log line %q holds a control character", line)
		assert.Regexp(t, whole, line, "a log line the server does not write")
	}
}

// The server's log names clients by address and never holds their bytes:
// nothing a client sends can forge a line or make one long.
func TestLogLinesHoldNoClientBytes(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			var logs testutil.Buffer
			r := testutil.StartServer(t, &threaded.Server{Log: newLogger(&logs)}, threaded.ErrServerClosed)
			c := connect(t, r.Addr)
			// On its own goroutine: once the server has refused a
			// long line, nobody reads the rest of it.
			sent := make(chan error, 1)
			go func() {
				_, err := io.WriteString(c.conn, tt.send)
				if err == nil {
					err = c.conn.CloseWrite()
				}
				sent <- err
			}()
			_, err := io.Copy(io.Discard, c.r)
			require.NoError(t, err)
			require.NoError(t, testutil.Receive(t, sent, "the write"))
			addr := regexp.QuoteMeta(c.conn.LocalAddr().String())
			testutil.WaitFor(t, "the server to log the end", func() bool {
				return regexp.MustCompile(addr + `:? .*disconnected`).MatchString(logs.String())
			})
			assert.NotContains(t, logs.String(), "forged")
			checkLogLines(t, logs.String(),
				`listening on 127\.0\.0\.1:\d+`,
				`connected with `+addr,
				addr+` disconnected after \d+ lines?`,
				addr+`: line too long: more than 4096 bytes; disconnected after \d+ lines?`)
		})
	}
}
