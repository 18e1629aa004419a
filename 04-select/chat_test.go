package chat_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/internal/testutil"
	"example.com/sockets/04-select/poll"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// config is what the tests set on either server.
type config struct {
	log         *log.Logger
	maxLine     int
	maxPending  int
	maxInFlight int
	timeout     time.Duration
}

// serverKind is one way to run the room.
type serverKind struct {
	name string
	new  func(config) testutil.Server
}

// servers is the table that every protocol test runs against: the same
// room, run by goroutines and a hub, and by a poll(2) loop.
var servers = []serverKind{
	{"hub", func(c config) testutil.Server {
		return &chat.Server{Log: c.log, MaxLineLength: c.maxLine,
			MaxPending: c.maxPending, MaxInFlight: c.maxInFlight, Timeout: c.timeout}
	}},
	{"poll", func(c config) testutil.Server {
		return &poll.Server{Log: c.log, MaxLineLength: c.maxLine,
			MaxPending: c.maxPending, MaxInFlight: c.maxInFlight, Timeout: c.timeout}
	}},
}

// skipUnbuilt skips tb when sv is not built on this system.
func skipUnbuilt(tb testing.TB, sv serverKind) {
	if sv.name == "poll" && !poll.Supported {
		tb.Skip("the poll(2) server is built on unix systems only")
	}
}

// forEachServer runs test once for each kind of server, as a subtest
// named after it.
func forEachServer(t *testing.T, test func(t *testing.T, sv serverKind)) {
	for _, sv := range servers {
		t.Run(sv.name, func(t *testing.T) {
			skipUnbuilt(t, sv)
			test(t, sv)
		})
	}
}

// eachServer is forEachServer for tests that only need the server
// running: start starts one with the given config and returns its address.
func eachServer(t *testing.T, test func(t *testing.T, start func(config) string)) {
	forEachServer(t, func(t *testing.T, sv serverKind) {
		test(t, func(c config) string {
			return testutil.StartServer(t, sv.new(c), chat.ErrServerClosed).Addr
		})
	})
}

// dropLog is a server's log that notes when the first line saying that a
// client is offline was written.
type dropLog struct {
	testutil.Buffer
	once sync.Once
	at   chan time.Time // gets that time
}

func newDropLog() *dropLog { return &dropLog{at: make(chan time.Time, 1)} }

func (l *dropLog) Write(p []byte) (int, error) {
	if strings.Contains(string(p), " is offline") {
		l.once.Do(func() { l.at <- time.Now() })
	}
	return l.Buffer.Write(p)
}

// member is a test's client in the room.
type member struct {
	t    testing.TB
	conn *net.TCPConn
	r    *bufio.Reader
	addr string // as the room names it
}

func dial(t testing.TB, addr string) *member {
	t.Helper()
	return memberOn(t, testutil.Dial(t, addr))
}

func memberOn(t testing.TB, c *net.TCPConn) *member {
	return &member{t: t, conn: c, r: bufio.NewReader(c), addr: c.LocalAddr().String()}
}

// join connects a new member and makes sure the room knows it: it says
// hello, gets its OK, and every member already in room hears it. Joining
// is not announced, so without this a test could not know when a new
// member starts to get the room's messages.
func join(t testing.TB, addr string, room ...*member) *member {
	t.Helper()
	return joinOn(t, dial(t, addr), room...)
}

// joinOn is join for a member already connected.
func joinOn(t testing.TB, m *member, room ...*member) *member {
	t.Helper()
	m.say("hi")
	for _, other := range room {
		other.expect(m.said("hi"))
	}
	return m
}

// say sends line and reads the sender's OK.
func (m *member) say(line string) {
	m.t.Helper()
	m.send(line + "\n")
	m.expect("OK ... " + line)
}

func (m *member) send(s string) {
	m.t.Helper()
	_, err := io.WriteString(m.conn, s)
	require.NoError(m.t, err)
}

// said is line as the others hear it from m.
func (m *member) said(line string) string { return "<" + m.addr + "> " + line }

// offline is what the others hear when m leaves.
func (m *member) offline() string { return "Client " + m.addr + " is offline" }

func (m *member) readLine() string {
	m.t.Helper()
	line, err := m.r.ReadString('\n')
	require.NoError(m.t, err, "%s: read a line; got %q so far", m.addr, line)
	return strings.TrimSuffix(line, "\n")
}

func (m *member) expect(lines ...string) {
	m.t.Helper()
	for _, want := range lines {
		require.Equal(m.t, want, m.readLine(), "what %s hears", m.addr)
	}
}

// seesEnd checks that m's connection ends, with EOF or a reset (RST),
// within a second of when: m reads what its own kernel still holds, and
// nothing more comes. A server that closed the connection politely would
// have its FIN wait behind everything it had queued for m; this read would
// still be getting that, slowly, when its deadline passed.
func (m *member) seesEnd(when time.Time) {
	m.t.Helper()
	require.NoError(m.t, m.conn.SetReadDeadline(when.Add(time.Second)))
	_, err := io.Copy(io.Discard, m.r)
	if err != nil {
		require.ErrorIs(m.t, err, syscall.ECONNRESET, "%s: the end of the connection", m.addr)
	}
}

// readToEOF reads what is left and fails unless the connection ends with a
// normal EOF.
func (m *member) readToEOF() string {
	m.t.Helper()
	rest, err := io.ReadAll(m.r)
	require.NoError(m.t, err, "%s: read to EOF; got %q", m.addr, rest)
	return string(rest)
}

func TestRoom(t *testing.T) {
	eachServer(t, func(t *testing.T, start func(config) string) {
		addr := start(config{})
		a := join(t, addr)
		b := join(t, addr, a)
		c := join(t, addr, a, b)

		a.say("hi all")
		b.expect(a.said("hi all"))
		c.expect(a.said("hi all"))

		// Telnet's \r\n, an empty line, UTF-8, and two lines in one write.
		b.send("héllo 🐶\r\n\nx\ny\n")
		b.expect("OK ... héllo 🐶", "OK ... ", "OK ... x", "OK ... y")
		for _, m := range []*member{a, c} {
			m.expect(b.said("héllo 🐶"), b.said(""), b.said("x"), b.said("y"))
		}

		// A line that arrives a byte at a time is still one line.
		_, err := io.WriteString(testutil.ChunkWrites(c.conn, 1), "slowly\n")
		require.NoError(t, err)
		c.expect("OK ... slowly")
		a.expect(c.said("slowly"))
		b.expect(c.said("slowly"))
	})
}

// TestLeaving has the first of three members leave: by hanging up, with a
// last line, or with a reset. The others hear that it is offline, named by
// its own address, not by the address of the member who joined last (the
// tutorial's server names the latest client it accepted), and the room
// carries on. A member that hangs up is taken out of the room and reads EOF
// in turn: the tutorial's server ignores an empty recv, keeps the socket,
// and select() returns it as readable for ever.
func TestLeaving(t *testing.T) {
	tests := []struct {
		name    string
		leave   func(m *member)
		hear    []string // what the others hear from the leaver, before it is offline
		wantLog string   // the server's log line, after "client ADDR is offline"
	}{
		{
			name:    "hangs up",
			leave:   func(m *member) { require.NoError(m.t, m.conn.CloseWrite()); assert.Empty(m.t, m.readToEOF()) },
			wantLog: "\n",
		},
		{
			name: "last line without newline",
			leave: func(m *member) {
				m.send("bye")
				require.NoError(m.t, m.conn.CloseWrite())
				assert.Equal(m.t, "OK ... bye\n", m.readToEOF())
			},
			hear:    []string{"bye"},
			wantLog: "\n",
		},
		{
			name: "resets the connection",
			leave: func(m *member) {
				require.NoError(m.t, m.conn.SetLinger(0)) // Close sends RST, not FIN
				require.NoError(m.t, m.conn.Close())
			},
			wantLog: ": read: ", // then the system's words for ECONNRESET
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachServer(t, func(t *testing.T, start func(config) string) {
				var logs testutil.Buffer
				addr := start(config{log: log.New(&logs, "", 0)})
				leaver := join(t, addr)
				a := join(t, addr, leaver)
				b := join(t, addr, leaver, a) // the last to join
				require.NotEqual(t, b.addr, leaver.addr)

				tt.leave(leaver)
				for _, m := range []*member{a, b} {
					for _, line := range tt.hear {
						m.expect(leaver.said(line))
					}
					m.expect(leaver.offline())
				}
				assert.Contains(t, logs.String(), "client "+leaver.addr+" is offline"+tt.wantLog)

				// The room carries on.
				a.say("still here")
				b.expect(a.said("still here"))
			})
		})
	}
}

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
			eachServer(t, func(t *testing.T, start func(config) string) {
				var logs testutil.Buffer
				addr := start(config{log: log.New(&logs, "", 0), maxLine: limit})
				a := join(t, addr)
				b := join(t, addr, a)
				m := join(t, addr, a, b)

				// Written on its own goroutine: once the server has
				// given up on the line, nobody may read the rest of it.
				written := make(chan error, 1)
				go func() {
					_, err := io.WriteString(m.conn, tt.line)
					written <- err
				}()
				if !tt.tooLong {
					line := strings.TrimRight(tt.line, "\r\n")
					m.expect("OK ... " + line)
					a.expect(m.said(line))
					b.expect(m.said(line))
					assert.NoError(t, testutil.Receive(t, written, "the write"))
					return
				}
				// One clear line, then a clean EOF, not a reset.
				assert.Equal(t, "error: line longer than 16 bytes\n", m.readToEOF())
				assert.NoError(t, testutil.Receive(t, written, "the write"))
				a.expect(m.offline())
				b.expect(m.offline())
				assert.Contains(t, logs.String(), "client "+m.addr+" is offline: line longer than 16 bytes\n")

				a.say("still here")
				b.expect(a.said("still here"))
			})
		})
	}
}

// A member that never reads fills the kernel's buffers, then more than
// MaxPending bytes wait for it, and it is dropped, with a reset; the
// others never notice more than its departure.
func TestSlowReaderIsDropped(t *testing.T) {
	eachServer(t, func(t *testing.T, start func(config) string) {
		logs := newDropLog()
		// MaxPending under MaxInFlight: a fills slow's outbox before
		// its own budget (the default, 64 KiB) runs out.
		addr := start(config{log: log.New(logs, "", 0), maxPending: 16 << 10})
		a := join(t, addr)
		b := join(t, addr, a)
		slow := join(t, addr, a, b)
		// From here on, slow reads nothing. A small receive buffer
		// makes the kernel give up on it sooner.
		require.NoError(t, slow.conn.SetReadBuffer(4096))

		line := strings.Repeat("z", 1000)
		dropped := false
		// expect reads the line wanted, noting the notice that slow is
		// offline if it comes first.
		expect := func(m *member, want string) {
			t.Helper()
			got := m.readLine()
			if got == slow.offline() {
				dropped = true
				got = m.readLine()
			}
			require.Equal(t, want, got)
		}
		// At most 100 MB of chat; the kernel buffers hold a few MB.
		for i := 0; !dropped && i < 100_000; i++ {
			msg := fmt.Sprintf("%d %s", i, line)
			a.send(msg + "\n")
			expect(a, "OK ... "+msg)
			expect(b, a.said(msg))
		}
		require.True(t, dropped, "the slow member was never dropped")
		assert.Contains(t, logs.String(), "client "+slow.addr+" is offline: not reading (more than 16384 bytes waiting)\n")
		slow.seesEnd(testutil.Receive(t, logs.at, "the time of the drop"))

		b.say("still chatting")
		expect(a, b.said("still chatting"))
	})
}

func TestCloseEndsEverything(t *testing.T) {
	forEachServer(t, func(t *testing.T, sv serverKind) {
		testutil.CheckLeaks(t)
		srv := sv.new(config{})
		r := testutil.StartServer(t, srv, chat.ErrServerClosed)
		a := join(t, r.Addr)
		b := join(t, r.Addr, a)
		b.send("half a li")

		closed := make(chan error, 1)
		go func() { closed <- srv.Close() }()
		assert.NoError(t, testutil.Receive(t, closed, "Close to return"))
		assert.ErrorIs(t, r.Wait(t), chat.ErrServerClosed)
		for _, m := range []*member{a, b} {
			rest, err := io.ReadAll(m.r)
			assert.Empty(t, rest)
			// EOF, or a reset where the server had unread input.
			if err != nil {
				assert.ErrorContains(t, err, "connection reset by peer")
			}
		}
		assert.NoError(t, srv.Close(), "a second Close")
		assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), chat.ErrServerClosed, "Serve after Close")
	})
}

// Bursts that a room must take without dropping anyone who reads: one
// member pastes a thousand lines, a hundred members say a line at the same
// instant, twenty say ten each. Each member hears its own OKs in the order
// it spoke, and every other member's lines in the order they were said,
// and nobody is dropped.
func TestBursts(t *testing.T) {
	tests := []struct {
		name                   string
		members, talkers, said int // talkers are the first members; each says said lines, in one write
	}{
		{"a paste of 1,000 lines", 21, 1, 1000},
		{"100 members, a line each at once", 100, 100, 1},
		{"20 members, 10 lines each at once", 20, 20, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eachServer(t, func(t *testing.T, start func(config) string) {
				addr := start(config{})
				var room []*member
				for range tt.members {
					room = append(room, join(t, addr, room...))
				}
				line := strings.Repeat("~", 50) // about as long as people type
				var wg sync.WaitGroup
				now := make(chan struct{})
				for i, m := range room[:tt.talkers] {
					var paste strings.Builder
					for j := range tt.said {
						fmt.Fprintf(&paste, "%d %s\n", j, line)
					}
					wg.Go(func() {
						<-now
						if _, err := io.WriteString(m.conn, paste.String()); err != nil {
							t.Errorf("member %d: %v", i, err)
						}
					})
				}
				for i, m := range room {
					wg.Go(func() {
						// next[from] is the line next expected from that member.
						next := make(map[string]int)
						for range tt.talkers * tt.said {
							from, n, err := m.heard(line)
							if err != nil {
								t.Errorf("member %d: %v", i, err)
								return
							}
							if n != next[from] {
								t.Errorf("member %d heard line %d from %s, want line %d", i, n, from, next[from])
							}
							next[from] = n + 1
						}
					})
				}
				close(now)
				wg.Wait()
			})
		})
	}
}

// heard reads a line "N text" that m or another member said, and returns
// who said it (m.addr for m's OK) and N.
func (m *member) heard(text string) (from string, n int, err error) {
	got, err := m.r.ReadString('\n')
	if err != nil {
		return "", 0, err
	}
	return m.parse(got, text)
}

// parse is heard for a line already read.
func (m *member) parse(got, text string) (from string, n int, err error) {
	rest, ok := strings.CutPrefix(got, "OK ... ")
	from = m.addr
	if !ok && strings.HasPrefix(got, "<") {
		from, rest, ok = strings.Cut(got[1:], "> ")
	}
	if !ok {
		return "", 0, fmt.Errorf("heard %q", got)
	}
	if _, err := fmt.Sscanf(rest, "%d "+text+"\n", &n); err != nil {
		return "", 0, fmt.Errorf("heard %q: %v", got, err)
	}
	return from, n, nil
}

// A member that floods the room is the one that waits. While a member that
// reads nothing is in the room, the room reads the flooder's lines only as
// its budget (MaxInFlight) allows: another member hears only the few that
// fit in the budget and the kernel's buffers (made small here) before the
// stalled member is dropped for its write timeout. Then everything flows:
// every line reaches the reader, and the flooder hears every OK.
func TestFlooderIsSlowed(t *testing.T) {
	const lines = 1000 // of 1 KB: 1 MB of chat
	forEachServer(t, func(t *testing.T, sv serverKind) {
		ln := testutil.Listen(t)
		smallBuffers(t, ln, 16<<10)
		srv := sv.new(config{maxInFlight: 8 << 10, timeout: 500 * time.Millisecond})
		addr := testutil.StartServerOn(t, ln, srv, chat.ErrServerClosed).Addr
		flooder := join(t, addr)
		reader := join(t, addr, flooder)
		stalled := joinOn(t, memberOn(t, dialSmall(t, addr, 4096)), flooder, reader)
		// From here on, stalled reads nothing.

		text := strings.Repeat("f", 1000)
		var paste strings.Builder
		for j := range lines {
			fmt.Fprintf(&paste, "%d %s\n", j, text)
		}
		written := make(chan error, 1)
		go func() {
			_, err := io.WriteString(flooder.conn, paste.String())
			written <- err
		}()
		// hear reads m's lines, in order, and returns how many came
		// before the news that stalled is offline.
		hear := func(m *member) (before int, err error) {
			before = -1
			for j := 0; j < lines; {
				got, err := m.r.ReadString('\n')
				if err != nil {
					return 0, fmt.Errorf("%s after line %d: %w", m.addr, j, err)
				}
				if got == stalled.offline()+"\n" && before < 0 {
					before = j
					continue
				}
				from, n, err := m.parse(got, text)
				if err != nil {
					return 0, err
				}
				if from != flooder.addr || n != j {
					return 0, fmt.Errorf("%s heard line %d from %s, want line %d from %s", m.addr, n, from, j, flooder.addr)
				}
				j++
			}
			if before < 0 { // the news came after the last line
				got, err := m.r.ReadString('\n')
				if err != nil || got != stalled.offline()+"\n" {
					return 0, fmt.Errorf("%s heard %q, %v; want the news that %s is offline", m.addr, got, err, stalled.addr)
				}
				before = lines
			}
			return before, nil
		}
		flooderHeard := make(chan error, 1)
		go func() {
			_, err := hear(flooder)
			flooderHeard <- err
		}()
		before, err := hear(reader)
		require.NoError(t, err)
		require.NoError(t, testutil.Receive(t, flooderHeard, "the flooder's OKs"))
		require.NoError(t, testutil.Receive(t, written, "the flooder's write"))
		// 8 KiB of budget, and some 40 KiB in the kernel's buffers on
		// either side of stalled's connection: some 50 lines of 1 KB,
		// not 1,000.
		assert.Less(t, before, 100, "lines of the flooder's heard before the stalled member was dropped")
		t.Logf("heard %d of the flooder's %d lines before the stalled member was dropped", before, lines)
	})
}

// A member that stops reading holds back a, who talks, once a's budget
// (MaxInFlight, 64 KiB) waits for it: far less than MaxPending. The write
// timeout drops it, with a reset, and a goes on.
func TestWriteTimeout(t *testing.T) {
	eachServer(t, func(t *testing.T, start func(config) string) {
		logs := newDropLog()
		addr := start(config{log: log.New(logs, "", 0), timeout: 300 * time.Millisecond})
		a := join(t, addr)
		slow := join(t, addr, a)
		require.NoError(t, slow.conn.SetReadBuffer(4096))

		// a talks until the room's messages to slow no longer fit in
		// the kernel's buffers, then waits: slow is dropped once it has
		// taken nothing for 300ms.
		msg := strings.Repeat("m", 4000)
		dropped := false
		for i := 0; !dropped && i < 2000; i++ { // at most 8 MB
			a.send(msg + "\n")
			got := a.readLine()
			if got == slow.offline() {
				dropped = true
				got = a.readLine()
			}
			require.Equal(t, "OK ... "+msg, got)
		}
		if !dropped {
			a.expect(slow.offline())
		}
		assert.Regexp(t, "client "+slow.addr+` is offline: write: .*i/o timeout\n`, logs.String())
		slow.seesEnd(testutil.Receive(t, logs.at, "the time of the drop"))
	})
}

func TestIPv6Loopback(t *testing.T) {
	forEachServer(t, func(t *testing.T, sv serverKind) {
		r := testutil.StartServerOn(t, testutil.ListenIPv6(t), sv.new(config{}), chat.ErrServerClosed)
		a := join(t, r.Addr)
		b := join(t, r.Addr, a) // a hears "<[::1]:PORT> hi"
		assert.True(t, strings.HasPrefix(b.addr, "[::1]:"), b.addr)
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

// Out of descriptors or kernel memory, Accept fails; the hub's Serve logs
// it, tries again, and the room goes on. Any other Accept error ends
// Serve. (poll.Server's Accept is the accept4 call itself, which a test
// cannot make fail this way.)
func TestServeRetriesAcceptWhenOutOfResources(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			var logs testutil.Buffer
			ln := &failingListener{Listener: testutil.Listen(t), errno: errno, fails: 2}
			r := testutil.StartServerOn(t, ln, &chat.Server{Log: log.New(&logs, "", 0)}, chat.ErrServerClosed)
			a := join(t, r.Addr)
			b := join(t, r.Addr, a)
			b.say("still chatting")
			a.expect(b.said("still chatting"))
			line := fmt.Sprintf("accept: accept tcp %s: accept4: %v\n", r.Addr, errno)
			assert.Equal(t, 2, strings.Count(logs.String(), line), logs.String())
		})
	}

	t.Run("another error", func(t *testing.T) {
		ln := &failingListener{Listener: testutil.Listen(t), errno: syscall.EPERM, fails: 1}
		r := testutil.StartServerOn(t, ln, &chat.Server{}, syscall.EPERM)
		assert.EqualError(t, r.Wait(t), "accept: accept tcp "+r.Addr+": accept4: operation not permitted")
	})
}
