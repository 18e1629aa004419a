package reverse_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reverse "example.com/sockets/07-reverse-repl"
	"example.com/sockets/07-reverse-repl/internal/testutil"
)

// These tests drive the REPL in-process with scripts, the way a person
// types the tutorial's calls into two Python sessions, and compare the
// transcripts: each command after the prompt "> ", then what it printed.
// Ports change on every run, so the transcripts have them masked.

// echoREPL returns a REPL that writes everything, errors included, to
// out, and shows each command after "> " as a terminal would, so that its
// output reads as a session. Its Timeout bounds every dial, accept and
// recv that gives no timeout of its own, so no command can hang a test.
func echoREPL(out io.Writer) *reverse.REPL {
	return &reverse.REPL{Out: out, Prompt: "> ", Echo: true, Timeout: testutil.Timeout}
}

// runREPL runs script through r and returns Run's result. Run is bounded
// by a context of testutil.Timeout as well as by r.Timeout.
func runREPL(t testing.TB, r *reverse.REPL, script string) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	return r.Run(ctx, strings.NewReader(script))
}

// runScript runs script through an echoREPL and returns the transcript,
// with its ports masked, and Run's result.
func runScript(t testing.TB, script string) (string, error) {
	t.Helper()
	out := new(testutil.Buffer)
	err := runREPL(t, echoREPL(out), script)
	return testutil.MaskPorts(out.String(), defaultPort), err
}

// defaultPort is the tutorial's port, which Help names: MaskPorts keeps it.
var defaultPort = portOf(reverse.DefaultAddr)

// portOf returns the port of a host:port address.
func portOf(addr string) string {
	return addr[strings.LastIndex(addr, ":")+1:]
}

// startScript runs script through r on a goroutine of its own: for a REPL
// that blocks (in accept, in recv) while the test does something else.
// Read Run's result from the returned channel.
func startScript(t testing.TB, r *reverse.REPL, script string) <-chan error {
	t.Helper()
	result := make(chan error, 1)
	finished := make(chan struct{})
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	go func() {
		defer close(finished)
		defer cancel()
		result <- r.Run(ctx, strings.NewReader(script))
	}()
	t.Cleanup(func() {
		// A test that failed before Run returned still waits for it,
		// and ends it: nothing is left running.
		cancel()
		select {
		case <-finished:
		case <-time.After(testutil.Timeout):
			t.Errorf("Run did not return within %v of its context's end", testutil.Timeout)
		}
	})
	return result
}

// waitMatch waits until out matches expr and returns the submatches.
func waitMatch(t testing.TB, out *testutil.Buffer, expr string) []string {
	t.Helper()
	re := regexp.MustCompile(expr)
	var m []string
	testutil.WaitFor(t, fmt.Sprintf("the REPL to print %q", expr), func() bool {
		m = re.FindStringSubmatch(out.String())
		return m != nil
	})
	return m
}

// silentPeer returns the address of a listener that never accepts: a dial
// to it succeeds (the kernel completes the handshake and queues the
// connection), and then nothing is ever sent, received or closed from the
// other side until the test ends.
func silentPeer(t testing.TB) string {
	t.Helper()
	return testutil.Listen(t).Addr().String()
}

// acceptOne accepts one connection on ln, bounded by testutil.Timeout, with
// a deadline of testutil.Timeout on it. It is closed at cleanup.
func acceptOne(t testing.TB, ln net.Listener) *net.TCPConn {
	t.Helper()
	tl := ln.(*net.TCPListener)
	require.NoError(t, tl.SetDeadline(time.Now().Add(testutil.Timeout)))
	c, err := tl.AcceptTCP()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(testutil.Timeout)))
	return c
}

// startReverseServer starts a reverse.Server on a fresh port and returns
// its address.
func startReverseServer(t testing.TB) string {
	t.Helper()
	return testutil.StartServer(t, &reverse.Server{}, reverse.ErrServerClosed).Addr
}

// The seed's client side, as a script: connect, send, receive the answer,
// receive again to see the server's close (Python's empty b""), close.
const clientScript = "dial ADDR\nsend Hello, world!\nrecv\nrecv\nclose\n"

const clientTranscript = `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> send Hello, world!
sent 13 bytes
> recv
received 13 bytes: "!dlrow ,olleH"
> recv
EOF: the server closed the connection
> close
closed the connection
`

func TestTutorialSessionBetweenTwoREPLs(t *testing.T) {
	testutil.CheckLeaks(t)

	// The server's side, typed into one REPL. It blocks in accept until
	// the client below dials, so the test learns the port from its
	// first line and only then starts the client.
	serverOut := new(testutil.Buffer)
	serverDone := startScript(t, echoREPL(serverOut),
		"listen 127.0.0.1:0\naccept\nrecv\nsend !dlrow ,olleH\nclose\n")
	addr := waitMatch(t, serverOut, `listening on (\S+)\n`)[1]

	// The order of the two transcripts does not depend on timing: every
	// step that needs the other side blocks until it has happened. The
	// server's accept waits for the client's dial, its recv for the
	// client's send; the client's first recv waits for the server's
	// send, and its second for the server's close. (The 13 bytes of one
	// send arrive in one piece on the loopback interface.)
	clientOut := new(testutil.Buffer)
	require.NoError(t, runREPL(t, echoREPL(clientOut), strings.ReplaceAll(clientScript, "ADDR", addr)))
	require.NoError(t, testutil.Receive(t, serverDone, "the server REPL's Run"))

	assert.Equal(t, clientTranscript, testutil.MaskPorts(clientOut.String()))
	assert.Equal(t, `> listen 127.0.0.1:PORT
listening on 127.0.0.1:PORT
> accept
accepted a connection from 127.0.0.1:PORT
> recv
received 13 bytes: "Hello, world!"
> send !dlrow ,olleH
sent 13 bytes
> close
closed the connection
`, testutil.MaskPorts(serverOut.String()))
}

func TestTutorialClientAgainstServer(t *testing.T) {
	addr := startReverseServer(t)
	got, err := runScript(t, strings.ReplaceAll(clientScript, "ADDR", addr))
	require.NoError(t, err)
	assert.Equal(t, clientTranscript, got)
}

func TestRecvTimeout(t *testing.T) {
	t.Run("recv's own timeout", func(t *testing.T) {
		// The dial is bounded by testutil.Timeout, and recv by its
		// own argument.
		got, err := runScript(t, "dial "+silentPeer(t)+"\nrecv 100ms\nstatus\n")
		require.ErrorIs(t, err, reverse.ErrFailed)
		assert.EqualError(t, err, "1 of 3 commands failed")
		assert.Equal(t, `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> recv 100ms
error: nothing received within 100ms
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
`, got)
	})

	t.Run("the REPL's Timeout", func(t *testing.T) {
		// A Timeout of 100ms bounds every command that gives none, so
		// the connection is made with commands that do: listen waits
		// for nothing, and "accept 10s" overrides Timeout. The test
		// dials the REPL's listener and then stays silent.
		out := new(testutil.Buffer)
		r := &reverse.REPL{Out: out, Prompt: "> ", Echo: true, Timeout: 100 * time.Millisecond}
		done := startScript(t, r, "listen 127.0.0.1:0\naccept 10s\nrecv\nstatus\n")
		testutil.Dial(t, waitMatch(t, out, `listening on (\S+)\n`)[1])
		err := testutil.Receive(t, done, "Run")
		assert.EqualError(t, err, "1 of 4 commands failed")
		assert.Equal(t, `> listen 127.0.0.1:PORT
listening on 127.0.0.1:PORT
> accept 10s
accepted a connection from 127.0.0.1:PORT
> recv
error: nothing received within 100ms
> status
listening on 127.0.0.1:PORT
connected to client 127.0.0.1:PORT on 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
`, testutil.MaskPorts(out.String()))
	})
}

// session is a REPL driven one command at a time, the way a person at a
// terminal drives it: the test writes each line into a pipe, and the
// prompt that the REPL prints when it is ready for the next line tells the
// test that the command before it is over.
type session struct {
	t     testing.TB
	repl  *reverse.REPL
	out   *testutil.Buffer
	in    *io.PipeWriter
	done  chan error
	ended bool
	err   error
}

// startSession runs r (with Out and Prompt set here, and no Echo) on a
// goroutine, reading its commands from a pipe, and waits for its first
// prompt. It ends at cleanup, if the test has not ended it.
func startSession(t testing.TB, r *reverse.REPL) *session {
	t.Helper()
	s := &session{t: t, repl: r, out: new(testutil.Buffer), done: make(chan error, 1)}
	r.Out, r.Prompt, r.Echo = s.out, "> ", false
	pr, pw := io.Pipe()
	s.in = pw
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	go func() {
		defer cancel()
		err := r.Run(ctx, pr)
		// A line written after Run has returned fails instead of
		// blocking: nobody would read it.
		pr.Close()
		s.done <- err
	}()
	t.Cleanup(func() { s.end() })
	testutil.WaitFor(t, "the first prompt", func() bool { return s.out.String() == "> " })
	return s
}

// do types line and returns what the command printed, once the next
// prompt shows that it is over.
func (s *session) do(line string) string {
	s.t.Helper()
	before := len(s.out.String()) // all of it up to the prompt
	_, err := io.WriteString(s.in, line+"\n")
	require.NoError(s.t, err, "typing %q", line)
	var printed string
	testutil.WaitFor(s.t, fmt.Sprintf("the prompt after %q", line), func() bool {
		printed = s.out.String()[before:]
		return printed == "> " || strings.HasSuffix(printed, "\n> ")
	})
	return strings.TrimSuffix(printed, "> ")
}

// end ends the input, as Ctrl-D does, and returns Run's result.
func (s *session) end() error {
	s.t.Helper()
	if !s.ended {
		s.ended = true
		s.in.Close()
		s.err = testutil.Receive(s.t, s.done, "Run to return at the end of input")
	}
	return s.err
}

// byteCount is n with its unit, as the REPL prints it.
func byteCount(n int) string {
	if n == 1 {
		return "1 byte"
	}
	return fmt.Sprintf("%d bytes", n)
}

// Hints the REPL prints after errors, by the error they explain.
const (
	hintRefused = "hint: nothing is listening there: is the server running? Start it in the chapter's folder with: go run ./cmd/reverse-server -addr 127.0.0.1:PORT\n" // after a dial to a port that is not the default
	hintInUse   = "hint: another socket is listening there already: pick another port\n"
	hintEPIPE   = "hint: this side can no longer send: it was shut down, or the peer closed the connection and said so with a reset\n"
	hintReset   = "hint: the peer's end of the connection is gone; it answered with a reset (RST)\n"
)

func TestSendAfterThePeerClosed(t *testing.T) {
	testutil.CheckLeaks(t)
	ln := testutil.Listen(t)
	s := startSession(t, &reverse.REPL{Timeout: testutil.Timeout})
	assert.Regexp(t, `^connected to \S+ from \S+\n$`, s.do("dial "+ln.Addr().String()))

	// The peer closes without reading or writing anything: a plain
	// close, which sends FIN.
	require.NoError(t, acceptOne(t, ln).Close())
	assert.Equal(t, "EOF: the server closed the connection\n", s.do("recv"))
	assert.Equal(t, "EOF: the server closed the connection\n", s.do("recv"),
		"EOF is not a one-time event: every recv after it sees it again")

	// EOF only says that the peer will send no more; TCP cannot tell
	// this side whether the peer still reads. So the first send is
	// accepted by the kernel and leaves; the peer's kernel, with no
	// socket to deliver it to, answers with a reset (RST).
	assert.Equal(t, "sent 1 byte\n", s.do("send x"))

	// The reset arrives when it arrives: until then, sends still
	// succeed. Once it has, they fail.
	sent := 1
	var failed string
	testutil.WaitFor(t, "a send to fail after the peer's reset", func() bool {
		got := s.do("send x")
		if got == "sent 1 byte\n" {
			sent++
			return false
		}
		failed = got
		return true
	})
	m := regexp.MustCompile(`^error: write tcp \S+->\S+: write: (broken pipe|connection reset by peer)\n(.*\n)$`).FindStringSubmatch(failed)
	require.NotNil(t, m, "the failed send printed %q", failed)
	// The hint is printed only when errors.Is finds the errno, so the
	// right hint shows that the error wraps EPIPE or ECONNRESET.
	wantHint := map[string]string{"broken pipe": hintEPIPE, "connection reset by peer": hintReset}[m[1]]
	assert.Equal(t, wantHint, m[2])

	assert.Regexp(t, fmt.Sprintf(`^connected to \S+ from \S+\nsent %s; received 0 bytes, then EOF\n$`, byteCount(sent)), s.do("status"))
	assert.EqualError(t, s.end(), fmt.Sprintf("1 of %d commands failed", 3+sent+2))
}

func TestShutdown(t *testing.T) {
	t.Run("send fails after it", func(t *testing.T) {
		got, err := runScript(t, "dial "+silentPeer(t)+"\nshutdown\nsend x\nstatus\n")
		assert.EqualError(t, err, "1 of 4 commands failed")
		assert.Equal(t, `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> shutdown
shut down sending: the server reads EOF; recv still works
> send x
error: write tcp 127.0.0.1:PORT->127.0.0.1:PORT: write: broken pipe
`+hintEPIPE+`> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 0 bytes, then shut down sending; received 0 bytes
`, got)
	})

	t.Run("recv still works after it", func(t *testing.T) {
		// The server reads the text, answers, and then waits for the
		// client's EOF before it closes: the half-close that the
		// tutorial's client never needed.
		got, err := runScript(t, "dial "+startReverseServer(t)+"\nsend Hello\nshutdown\nrecv\nrecv\n")
		require.NoError(t, err)
		assert.Equal(t, `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> send Hello
sent 5 bytes
> shutdown
shut down sending: the server reads EOF; recv still works
> recv
received 5 bytes: "olleH"
> recv
EOF: the server closed the connection
`, got)
	})
}

func TestInterruptEndsAWaitingCommand(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   string // from the command that waits on
	}{
		{
			name:   "recv",
			script: "dial ADDR\nrecv\nstatus\n",
			want: `> recv
error: interrupted
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
`,
		},
		{
			name:   "accept",
			script: "listen 127.0.0.1:0\naccept\nstatus\n",
			want: `> accept
error: interrupted
> status
listening on 127.0.0.1:PORT
not connected
`,
		},
		// dial is left out: nothing makes a dial wait for sure. On
		// the loopback interface a full backlog makes the kernel drop
		// SYNs, but how many connections fill it, and whether a SYN
		// is dropped or answered, depends on the kernel's settings.
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			out := new(testutil.Buffer)
			// No Timeout: as in the tutorial, the command waits until
			// something happens, and here nothing will. (Run's context
			// still ends it if Interrupt fails to.)
			r := &reverse.REPL{Out: out, Prompt: "> ", Echo: true}
			assert.False(t, r.Interrupt(), "Interrupt before Run: no command is running")

			done := startScript(t, r, strings.ReplaceAll(tt.script, "ADDR", silentPeer(t)))
			// The REPL echoes a command only once Interrupt can end
			// it, so the echo is the signal to interrupt.
			waitMatch(t, out, "> "+tt.name+"\n")
			assert.True(t, r.Interrupt(), "Interrupt while %s waits", tt.name)

			err := testutil.Receive(t, done, "Run")
			assert.EqualError(t, err, "1 of 3 commands failed")
			got := testutil.MaskPorts(out.String())
			_, after, ok := strings.Cut(got, "> "+tt.name+"\n")
			require.True(t, ok, "transcript:\n%s", got)
			assert.Equal(t, tt.want, "> "+tt.name+"\n"+after)
			assert.False(t, r.Interrupt(), "Interrupt after Run: no command is running")
		})
	}
}

func TestInterruptAtThePromptIsRefused(t *testing.T) {
	// Between commands there is nothing to interrupt, and Interrupt says
	// so: the caller (reverse-repl's Ctrl-C) then ends the session.
	r := &reverse.REPL{Timeout: testutil.Timeout}
	s := startSession(t, r)
	assert.Equal(t, "not connected\n", s.do("status"))
	// The prompt is printed after the command has ended.
	assert.False(t, r.Interrupt())
	require.NoError(t, s.end())
}

func TestRunEndsWithItsContext(t *testing.T) {
	testutil.CheckLeaks(t)
	out := new(testutil.Buffer)
	r := &reverse.REPL{Out: out, Prompt: "> "}
	pr, pw := io.Pipe()
	// Run's reading goroutine waits in Read until the pipe is closed.
	t.Cleanup(func() { pw.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx, pr) }()
	waitMatch(t, out, "^> $") // Run waits for the first line
	cancel()
	assert.ErrorIs(t, testutil.Receive(t, done, "Run to return after cancel"), context.Canceled)
	assert.Equal(t, "> \n", out.String(), "the prompt's line is ended")
}

func TestErrorsAreReportedAndTheREPLCarriesOn(t *testing.T) {
	closed := testutil.Listen(t)
	refused := closed.Addr().String()
	closed.Close()
	taken := testutil.Listen(t).Addr().String()

	const notConnected = "error: not connected: dial first (or listen and accept)\n"
	tests := []struct {
		name    string
		script  string // ADDR is replaced by a silent peer's address
		want    string // what the script's last line printed
		wantErr string // counting the status that the test adds
	}{
		{"send without a connection", "send x", notConnected, "1 of 2 commands failed"},
		{"recv without a connection", "recv", notConnected, "1 of 2 commands failed"},
		{"shutdown without a connection", "shutdown", notConnected, "1 of 2 commands failed"},
		// A line that is not a command is text to send: not an error
		// in itself, but there is no connection to send it on.
		{"unknown word without a connection", "hello", notConnected, "1 of 2 commands failed"},
		{"close with nothing open", "close", "error: nothing to close\n", "1 of 2 commands failed"},
		{"send with no text", "dial ADDR\nsend", "error: send what? Usage: send TEXT\n", "1 of 3 commands failed"},
		{"send an unterminated literal", `send "abc`, "error: \"abc is not a Go string literal: invalid syntax\n", "1 of 2 commands failed"},
		{"text that is a bad literal", `"abc\q"`, "error: \"abc\\q\" is not a Go string literal: invalid syntax\n", "1 of 2 commands failed"},
		{"recv 0", "recv 0", "error: recv 0: the size must be at least 1\n", "1 of 2 commands failed"},
		{"recv -5", "recv -5", "error: recv -5: the size must be at least 1\n", "1 of 2 commands failed"},
		{"recv abc", "recv abc", "error: recv abc: want a size in bytes (1024) or a timeout (2s)\n", "1 of 2 commands failed"},
		{"recv -1s", "recv -1s", "error: recv -1s: want a size in bytes (1024) or a timeout (2s)\n", "1 of 2 commands failed"},
		{"accept without listen", "accept", "error: not listening: listen first\n", "1 of 2 commands failed"},
		{"accept bad", "accept bad", "error: \"bad\" is not a timeout: write it as 2s or 500ms\n", "1 of 2 commands failed"},
		{"accept 0s", "listen 127.0.0.1:0\naccept 0s", "error: \"0s\" is not a timeout: write it as 2s or 500ms\n", "1 of 3 commands failed"},
		{"accept when connected", "dial ADDR\nlisten 127.0.0.1:0\naccept", "error: already connected to 127.0.0.1:PORT: close first\n", "1 of 4 commands failed"},
		{"accept times out", "listen 127.0.0.1:0\naccept 50ms", "error: no client within 50ms\n", "1 of 3 commands failed"},
		{"dial refused", "dial " + refused, "error: dial tcp 127.0.0.1:PORT: connect: connection refused\n" + hintRefused, "1 of 2 commands failed"},
		{"dial when connected", "dial ADDR\ndial ADDR", "error: already connected to 127.0.0.1:PORT: close first\n", "1 of 3 commands failed"},
		{"listen twice", "listen 127.0.0.1:0\nlisten 127.0.0.1:0", "error: already listening on 127.0.0.1:PORT: close first\n", "1 of 3 commands failed"},
		{"listen on an address in use", "listen " + taken, "error: listen tcp 127.0.0.1:PORT: bind: address already in use\n" + hintInUse, "1 of 2 commands failed"},
		{
			// Comments and blank lines are echoed, but they are not
			// commands: they do not count.
			name:    "comments and blank lines do not count",
			script:  "# a comment\n\n   \nstatus\n  # indented\nsend x\nhelp\nsend y",
			want:    notConnected,
			wantErr: "2 of 5 commands failed",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A status after the failing line shows that the REPL
			// carries on.
			script := strings.ReplaceAll(tt.script, "ADDR", silentPeer(t)) + "\nstatus\n"
			got, err := runScript(t, script)
			require.ErrorIs(t, err, reverse.ErrFailed)
			assert.EqualError(t, err, tt.wantErr)

			steps := splitTranscript(got)
			require.GreaterOrEqual(t, len(steps), 2, "transcript:\n%s", got)
			failing, status := steps[len(steps)-2], steps[len(steps)-1]
			lines := strings.Split(script, "\n")
			assert.Equal(t, testutil.MaskPorts(lines[len(lines)-3]), failing.command)
			assert.Equal(t, tt.want, failing.printed, "transcript:\n%s", got)
			assert.Equal(t, "status", status.command)
			assert.NotContains(t, status.printed, "error")
		})
	}
}

// step is one command of a transcript and what it printed.
type step struct{ command, printed string }

// splitTranscript splits an echoREPL's transcript into its commands.
// Nothing a command prints starts a line with the prompt "> ".
func splitTranscript(transcript string) []step {
	var steps []step
	for line := range strings.Lines(transcript) {
		if cmd, ok := strings.CutPrefix(line, "> "); ok {
			steps = append(steps, step{command: strings.TrimSuffix(cmd, "\n")})
		} else if len(steps) > 0 {
			steps[len(steps)-1].printed += line
		}
	}
	return steps
}

func TestSendQuotedText(t *testing.T) {
	// A quoted argument is a Go string literal, for bytes that cannot be
	// typed. The peer never accepts while the REPL runs: what was sent
	// waits in its kernel's queue, and the test reads it all afterwards,
	// up to the EOF of the REPL's close.
	ln := testutil.Listen(t)
	got, err := runScript(t, "dial "+ln.Addr().String()+"\n"+`send "a\nb\x00"`+"\nsend plain \"text\"\nclose\n")
	require.NoError(t, err)
	assert.Equal(t, `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> send "a\nb\x00"
sent 4 bytes
> send plain "text"
sent 12 bytes
> close
closed the connection
`, got)

	received, err := io.ReadAll(acceptOne(t, ln))
	require.NoError(t, err)
	assert.Equal(t, "a\nb\x00"+`plain "text"`, string(received))
}

func TestTextIsSentAndAnswered(t *testing.T) {
	// A line that is not a command is sent, and the answer received.
	// The server answers one text per connection, so each text has its
	// own.
	addr := startReverseServer(t)
	got, err := runScript(t, strings.ReplaceAll(`dial ADDR
Hello, world!
close
dial ADDR
héllo 🐶
recv
close
dial ADDR
"\xffab\n"
`, "ADDR", addr))
	require.NoError(t, err)
	assert.Equal(t, `> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> Hello, world!
sent 13 bytes
received 13 bytes: "!dlrow ,olleH"
> close
closed the connection
> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> héllo 🐶
sent 11 bytes
received 11 bytes: "🐶 olléh"
> recv
EOF: the server closed the connection
> close
closed the connection
> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> "\xffab\n"
sent 4 bytes
received 4 bytes: "\nba\xff"
`, got)
}

func TestAddrIsTheDefaultAddress(t *testing.T) {
	// dial and listen without an address use Addr; an address given to
	// the command wins over it.
	out := new(testutil.Buffer)
	r := echoREPL(out)
	r.Addr = startReverseServer(t)
	err := runREPL(t, r, "dial\nHello\nclose\nlisten\nlisten 127.0.0.1:0\nclose\nclose\n")
	assert.EqualError(t, err, "2 of 7 commands failed")
	assert.Equal(t, strings.ReplaceAll(`> dial
connected to SERVER from 127.0.0.1:PORT
> Hello
sent 5 bytes
received 5 bytes: "olleH"
> close
closed the connection
> listen
error: listen tcp SERVER: bind: address already in use
`+hintInUse+`> listen 127.0.0.1:PORT
listening on 127.0.0.1:PORT
> close
stopped listening on 127.0.0.1:PORT
> close
error: nothing to close
`, "SERVER", r.Addr), testutil.MaskPorts(out.String(), portOf(r.Addr)))
}

func TestStatusInEachState(t *testing.T) {
	t.Run("dialed", func(t *testing.T) {
		got, err := runScript(t, "status\ndial "+startReverseServer(t)+
			"\nstatus\nsend Hello\nrecv\nstatus\nrecv\nstatus\nshutdown\nstatus\nclose\nstatus\n")
		require.NoError(t, err)
		assert.Equal(t, `> status
not connected
> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
> send Hello
sent 5 bytes
> recv
received 5 bytes: "olleH"
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 5 bytes; received 5 bytes
> recv
EOF: the server closed the connection
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 5 bytes; received 5 bytes, then EOF
> shutdown
shut down sending: the server reads EOF; recv still works
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 5 bytes, then shut down sending; received 5 bytes, then EOF
> close
closed the connection
> status
not connected
`, got)
	})

	t.Run("accepted", func(t *testing.T) {
		out := new(testutil.Buffer)
		done := startScript(t, echoREPL(out),
			"listen 127.0.0.1:0\nstatus\naccept\nstatus\nrecv 1\nstatus\nrecv\nstatus\nclose\nstatus\nclose\nstatus\n")
		client := testutil.Dial(t, waitMatch(t, out, `listening on (\S+)\n`)[1])
		// "recv 1" takes one byte of the two, so the counts show what
		// went through, not what was sent. Then the client closes:
		// the REPL's recv gets the other byte first, and then EOF.
		_, err := client.Write([]byte("hi"))
		require.NoError(t, err)
		require.NoError(t, client.Close())
		require.NoError(t, testutil.Receive(t, done, "Run"))

		assert.Equal(t, `> listen 127.0.0.1:PORT
listening on 127.0.0.1:PORT
> status
listening on 127.0.0.1:PORT
not connected
> accept
accepted a connection from 127.0.0.1:PORT
> status
listening on 127.0.0.1:PORT
connected to client 127.0.0.1:PORT on 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
> recv 1
received 1 byte: "h"
> status
listening on 127.0.0.1:PORT
connected to client 127.0.0.1:PORT on 127.0.0.1:PORT
sent 0 bytes; received 1 byte
> recv
received 1 byte: "i"
> status
listening on 127.0.0.1:PORT
connected to client 127.0.0.1:PORT on 127.0.0.1:PORT
sent 0 bytes; received 2 bytes
> close
closed the connection
> status
listening on 127.0.0.1:PORT
not connected
> close
stopped listening on 127.0.0.1:PORT
> status
not connected
`, testutil.MaskPorts(out.String()))
	})
}

func TestHelpQuitAndEndOfInput(t *testing.T) {
	tests := []struct {
		name    string
		script  string
		want    string
		wantErr string
	}{
		{"help", "help\n", "> help\n" + reverse.Help, ""},
		{"end of input", "status\n", "> status\nnot connected\n", ""},
		{"end of input without a newline", "status", "> status\nnot connected\n", ""},
		{"empty input", "", "", ""},
		{"CRLF line ends", "status\r\nhelp\r\n", "> status\nnot connected\n> help\n" + reverse.Help, ""},
		// The lines after quit are never run: the send would fail.
		{"quit", "status\nquit\nsend x\nstatus\n", "> status\nnot connected\n> quit\n", ""},
		{"quit counts failures", "send x\nquit\nsend x\n", "> send x\nerror: not connected: dial first (or listen and accept)\n> quit\n", "1 of 2 commands failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runScript(t, tt.script)
			if tt.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, reverse.ErrFailed)
				assert.EqualError(t, err, tt.wantErr)
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPrompt(t *testing.T) {
	tests := []struct {
		name   string
		prompt string
		echo   bool
		script string
		want   string
	}{
		{
			// As at a terminal: the prompt comes before each line is
			// read, and the end of input (Ctrl-D) gets a line break
			// after the last prompt, so that the shell's prompt starts
			// a line of its own.
			name:   "prompt",
			prompt: "> ",
			script: "status\n\nstatus\n",
			want:   "> not connected\n> > not connected\n> \n",
		},
		{"prompt after quit", "> ", false, "quit\n", "> "},
		{"no prompt", "", false, "status\n\nstatus\n", "not connected\nnot connected\n"},
		{"echo", "> ", true, "status\n\nstatus\n", "> status\nnot connected\n> \n> status\nnot connected\n"},
		{"echo without a prompt", "", true, "status\n", "status\nnot connected\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := new(testutil.Buffer)
			r := &reverse.REPL{Out: out, Prompt: tt.prompt, Echo: tt.echo}
			require.NoError(t, runREPL(t, r, tt.script))
			if diff := cmp.Diff(tt.want, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorsGoToErr(t *testing.T) {
	var out, errs testutil.Buffer
	r := &reverse.REPL{Out: &out, Err: &errs, Prompt: "> ", Echo: true}
	err := runREPL(t, r, "status\nsend x\nlisten "+testutil.Listen(t).Addr().String()+"\n")
	assert.EqualError(t, err, "2 of 3 commands failed")
	assert.Equal(t, "> status\nnot connected\n> send x\n> listen 127.0.0.1:PORT\n", testutil.MaskPorts(out.String()))
	assert.Equal(t, "error: not connected: dial first (or listen and accept)\n"+
		"error: listen tcp 127.0.0.1:PORT: bind: address already in use\n"+hintInUse, testutil.MaskPorts(errs.String()))
}

func TestLineLengthLimit(t *testing.T) {
	tests := []struct {
		name   string
		length int // of the send line, without its line break
		ending string
	}{
		{"longest", reverse.MaxLineLength, "\n"},
		{"longest with CRLF", reverse.MaxLineLength, "\r\n"},
		{"longest at the end of input", reverse.MaxLineLength, ""},
		{"one byte too long", reverse.MaxLineLength + 1, "\n"},
		// Longer than the scanner's buffer: bufio.Scanner itself
		// refuses it, and the REPL says the same.
		{"far too long", 2 * reverse.MaxLineLength, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The peer never accepts: what is sent waits in its
			// kernel's buffers, which hold the 64 KiB.
			text := strings.Repeat("x", tt.length-len("send "))
			out := new(testutil.Buffer)
			err := runREPL(t, echoREPL(out), "dial "+silentPeer(t)+"\nsend "+text+tt.ending)
			if tt.length <= reverse.MaxLineLength {
				// MaxLineLength is "the longest command line the
				// REPL reads".
				require.NoError(t, err)
				got := out.String()
				assert.True(t, strings.HasSuffix(got, fmt.Sprintf("\nsent %d bytes\n", len(text))), "output ends %q", got[max(0, len(got)-60):])
				return
			}
			// The commands before the long line have run; the long
			// line stops Run, which says why.
			require.ErrorIs(t, err, bufio.ErrTooLong)
			assert.ErrorContains(t, err, fmt.Sprintf("reading commands: line 2 is longer than %d bytes", reverse.MaxLineLength))
			assert.NotErrorIs(t, err, reverse.ErrFailed)
			assert.Regexp(t, `^> dial \S+\nconnected to \S+ from \S+\n$`, out.String())
		})
	}
}

// hookWriter is a testutil.Buffer that calls hook with each write before
// it takes it in, on the writer's goroutine.
type hookWriter struct {
	testutil.Buffer
	hook func(p []byte)
}

func (w *hookWriter) Write(p []byte) (int, error) {
	w.hook(p)
	return w.Buffer.Write(p)
}

func TestInterruptAfterTheResultIsRefused(t *testing.T) {
	// Once a command has printed its result, it is over for whoever
	// reads the output: an Interrupt then (a person's Ctrl-C at what
	// looks like the prompt) must not be taken by that command and
	// lost. It must return false, so that reverse-repl ends the
	// session, as it promises for Ctrl-C at the prompt.
	addr := startReverseServer(t)
	tests := []struct {
		name   string
		script string
		result string // the start of the result line
	}{
		{"dial", "dial " + addr + "\n", "connected to "},
		{"status", "status\n", "not connected"},
		{"text", "dial " + addr + "\nhello\n", "received "},
		{"error", "send x\n", "error: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r *reverse.REPL
			var interrupted []bool
			out := &hookWriter{hook: func(p []byte) {
				if len(interrupted) == 0 && strings.HasPrefix(string(p), tt.result) {
					interrupted = append(interrupted, r.Interrupt())
				}
			}}
			r = echoREPL(out)
			err := runREPL(t, r, tt.script+"status\n")
			require.NotEmpty(t, interrupted, "transcript:\n%s", out.String())
			assert.False(t, interrupted[0], "Interrupt while the result of %s is printed", tt.name)
			assert.NotContains(t, out.String(), "interrupted")
			if tt.name != "error" {
				assert.NoError(t, err)
			}
		})
	}
}
