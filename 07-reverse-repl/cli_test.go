package reverse_test

import (
	"io"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reverse "example.com/sockets/07-reverse-repl"
	"example.com/sockets/07-reverse-repl/internal/testutil"
)

// These tests build cmd/reverse-server and cmd/reverse-repl and run them as
// real processes, the way a learner does in two terminals: against each
// other, against a reverse.Server started in the test, and against test
// listeners that never answer.

// cliServer starts reverse-server on a free port (-addr 127.0.0.1:0 and
// then args) and returns the process and the address it listens on, once
// it has said so.
func cliServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/reverse-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	return p, p.WaitOutput(`listening on (\S+)\n`)[1]
}

// replCommand is reverse-repl with args, ready to start.
func replCommand(t *testing.T, args ...string) *exec.Cmd {
	t.Helper()
	return exec.Command(testutil.Build(t, "./cmd/reverse-repl"), args...)
}

// cliREPL runs reverse-repl with args and script as its standard input (a
// pipe, not a terminal) until it exits.
func cliREPL(t *testing.T, script string, args ...string) *testutil.Process {
	t.Helper()
	cmd := replCommand(t, args...)
	cmd.Stdin = strings.NewReader(script)
	return testutil.Run(t, cmd)
}

// cliAsk sends text on a raw connection to addr, as the tutorial's client
// does, and returns all the server sends back until it closes.
func cliAsk(t *testing.T, addr, text string) string {
	t.Helper()
	c := testutil.Dial(t, addr)
	_, err := c.Write([]byte(text))
	require.NoError(t, err)
	got, err := io.ReadAll(c)
	require.NoError(t, err)
	require.NoError(t, c.Close())
	return string(got)
}

func TestServerCommandAnswersAndStopsOnCtrlC(t *testing.T) {
	tests := []struct {
		name string
		args []string
		text string
		want string
	}{
		{"tutorial", nil, "Hello, world!", "!dlrow ,olleH"},
		{"runes", nil, "héllo 🐶", "🐶 olléh"},
		// The tutorial's bytes(reversed(data)) turns é's two bytes
		// around: what comes back is not UTF-8.
		{"-bytes", []string{"-bytes"}, "héllo", "oll\xa9\xc3h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server, addr := cliServer(t, tt.args...)
			assert.Equal(t, tt.want, cliAsk(t, addr, tt.text))
			// The server closes the connection after the client's EOF
			// (the client's Close): wait for that line, so that the
			// whole story is in the log before Ctrl-C.
			server.WaitOutput(`closing connection to \S+\n`)
			server.Interrupt()
			assert.Equal(t, 0, server.Wait())
			// The log quotes data as Go literals (%q).
			assert.Equal(t, "listening on 127.0.0.1:PORT\n"+
				"connection from 127.0.0.1:PORT\n"+
				"received "+byteCount(len(tt.text))+" from 127.0.0.1:PORT: "+strconv.Quote(tt.text)+"\n"+
				"sent "+byteCount(len(tt.want))+" to 127.0.0.1:PORT: "+strconv.Quote(tt.want)+"\n"+
				"closing connection to 127.0.0.1:PORT\n"+
				"server stopped\n",
				testutil.MaskPorts(server.Stdout()))
			assert.Empty(t, server.Stderr())
		})
	}
}

func TestServerCommandAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/reverse-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Empty(t, server.Stdout())
	assert.Equal(t,
		"reverse-server: listen tcp "+taken+": bind: address already in use\n"+
			"is another server already running? Stop it, or pick another port with -addr\n",
		server.Stderr())
}

func TestREPLCommandRunsAScript(t *testing.T) {
	serverAddr := startReverseServer(t)
	silent := silentPeer(t)
	tests := []struct {
		name       string
		args       []string
		script     string // SERVER and SILENT are replaced by addresses
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{
			// Without a terminal there is no prompt, and nothing
			// but what the commands print.
			name:     "the tutorial's client",
			script:   "dial SERVER\nsend Hello, world!\nrecv\nrecv\nclose\n",
			wantCode: 0,
			wantStdout: `connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 13 bytes
received 13 bytes: "!dlrow ,olleH"
EOF: the server closed the connection
closed the connection
`,
		},
		{
			name:     "-addr is the default address",
			args:     []string{"-addr", "SERVER"},
			script:   "dial\nhéllo 🐶\n",
			wantCode: 0,
			wantStdout: `connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 11 bytes
received 11 bytes: "🐶 olléh"
`,
		},
		{
			// Results go to stdout and errors to stderr, and the
			// count of failures ends stderr.
			name:       "a failing command",
			script:     "# not connected yet\nsend x\nstatus\n",
			wantCode:   1,
			wantStdout: "not connected\n",
			wantStderr: "error: not connected: dial first (or listen and accept)\nreverse-repl: 1 of 2 commands failed\n",
		},
		{
			name:     "-echo",
			args:     []string{"-echo"},
			script:   "status\nsend x\n",
			wantCode: 1,
			wantStdout: `type "help" for the commands, "quit" or Ctrl-D to leave
> status
not connected
> send x
`,
			wantStderr: "error: not connected: dial first (or listen and accept)\nreverse-repl: 1 of 2 commands failed\n",
		},
		{
			name:       "-timeout bounds recv",
			args:       []string{"-timeout", "100ms"},
			script:     "dial SILENT\nrecv\nstatus\n",
			wantCode:   1,
			wantStdout: "connected to 127.0.0.1:PORT from 127.0.0.1:PORT\nconnected to 127.0.0.1:PORT from 127.0.0.1:PORT\nsent 0 bytes; received 0 bytes\n",
			wantStderr: "error: nothing received within 100ms\nreverse-repl: 1 of 3 commands failed\n",
		},
		{
			name:       "connection refused",
			script:     "dial SERVER\nclose\ndial CLOSED\n",
			wantCode:   1,
			wantStdout: "connected to 127.0.0.1:PORT from 127.0.0.1:PORT\nclosed the connection\n",
			wantStderr: "error: dial tcp 127.0.0.1:PORT: connect: connection refused\n" + hintRefused + "reverse-repl: 1 of 3 commands failed\n",
		},
		{
			name:       "a line too long",
			script:     "status\n" + strings.Repeat("x", reverse.MaxLineLength+1) + "\nstatus\n",
			wantCode:   1,
			wantStdout: "not connected\n",
			wantStderr: "reverse-repl: reading commands: line 2 is longer than 65536 bytes: bufio.Scanner: token too long\n",
		},
	}
	closed := testutil.Listen(t)
	refused := closed.Addr().String()
	closed.Close()
	addrs := strings.NewReplacer("SERVER", serverAddr, "SILENT", silent, "CLOSED", refused)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = addrs.Replace(a)
			}
			p := cliREPL(t, addrs.Replace(tt.script), args...)
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Equal(t, tt.wantStdout, testutil.MaskPorts(p.Stdout()))
			assert.Equal(t, tt.wantStderr, testutil.MaskPorts(p.Stderr()))
		})
	}
}

func TestTutorialBetweenProcesses(t *testing.T) {
	client := "dial ADDR\nsend Hello, world!\nrecv\nrecv\nclose\n"
	clientOut := `connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 13 bytes
received 13 bytes: "!dlrow ,olleH"
EOF: the server closed the connection
closed the connection
`

	t.Run("two REPLs", func(t *testing.T) {
		// The tutorial's two terminals: the server's REPL blocks in
		// accept until the client's REPL dials. As in the in-process
		// test, each step that needs the other side waits for it.
		cmd := replCommand(t)
		cmd.Stdin = strings.NewReader("listen 127.0.0.1:0\naccept\nrecv\nsend !dlrow ,olleH\nclose\n")
		server := testutil.Start(t, cmd)
		addr := server.WaitOutput(`listening on (\S+)\n`)[1]

		p := cliREPL(t, strings.ReplaceAll(client, "ADDR", addr))
		assert.Equal(t, 0, p.Wait())
		assert.Equal(t, clientOut, testutil.MaskPorts(p.Stdout()))
		assert.Empty(t, p.Stderr())

		assert.Equal(t, 0, server.Wait())
		assert.Equal(t, `listening on 127.0.0.1:PORT
accepted a connection from 127.0.0.1:PORT
received 13 bytes: "Hello, world!"
sent 13 bytes
closed the connection
`, testutil.MaskPorts(server.Stdout()))
		assert.Empty(t, server.Stderr())
	})

	t.Run("REPL and server", func(t *testing.T) {
		server, addr := cliServer(t)
		p := cliREPL(t, strings.ReplaceAll(client, "ADDR", addr))
		assert.Equal(t, 0, p.Wait())
		assert.Equal(t, clientOut, testutil.MaskPorts(p.Stdout()))
		assert.Empty(t, p.Stderr())
		server.WaitOutput(`closing connection to \S+\n`)
	})
}

func TestREPLCommandCtrlCInterruptsAWaitingCommand(t *testing.T) {
	// A recv with no timeout on a peer that never sends waits forever,
	// as in the tutorial; Ctrl-C ends it, and the session goes on.
	cmd := replCommand(t, "-echo")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	p := testutil.Start(t, cmd)
	_, err = io.WriteString(stdin, "dial "+silentPeer(t)+"\nrecv\n")
	require.NoError(t, err)
	// The REPL echoes a command once Ctrl-C can interrupt it.
	p.WaitOutput("> recv\n")
	p.Interrupt()
	// The recv cannot end any other way, so status runs only after
	// the interrupt has been handled.
	_, err = io.WriteString(stdin, "status\nquit\n")
	require.NoError(t, err)

	assert.Equal(t, 1, p.Wait())
	assert.Equal(t, `type "help" for the commands, "quit" or Ctrl-D to leave
> dial 127.0.0.1:PORT
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
> recv
> status
connected to 127.0.0.1:PORT from 127.0.0.1:PORT
sent 0 bytes; received 0 bytes
> quit
`, testutil.MaskPorts(p.Stdout()))
	assert.Equal(t, "error: interrupted\nreverse-repl: 1 of 4 commands failed\n", p.Stderr())
}

func TestREPLCommandCtrlCAtThePromptQuits(t *testing.T) {
	// Ctrl-C with no command running ends the session: exit 130, as a
	// shell reports a program that SIGINT ended. Without a terminal
	// there is no prompt to show that the REPL waits for a line, so the
	// test presses Ctrl-C once the dial's result is out: the REPL must
	// not count that as interrupting the dial, which is over (see
	// TestInterruptAfterTheResultIsRefused).
	cmd := replCommand(t, "-echo")
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	p := testutil.Start(t, cmd)
	_, err = io.WriteString(stdin, "dial "+startReverseServer(t)+"\n")
	require.NoError(t, err)
	p.WaitOutput(`connected to \S+ from \S+\n`)
	p.Interrupt()
	assert.Equal(t, 130, p.Wait())
	assert.Empty(t, p.Stderr())
}

func TestCommandFlags(t *testing.T) {
	tests := []struct {
		cmd      string
		args     []string
		wantCode int
		wantErr  []string // each in stderr
	}{
		{"reverse-server", []string{"-h"}, 0, []string{"usage: reverse-server [-addr host:port] [-bytes] [-timeout duration]\n"}},
		{"reverse-server", []string{"-nope"}, 2, []string{"flag provided but not defined: -nope\n", "usage: reverse-server"}},
		{"reverse-server", []string{"7342"}, 2, []string{"reverse-server: unexpected argument \"7342\"\n", "usage: reverse-server"}},
		{"reverse-server", []string{"-timeout", "0s"}, 2, []string{"reverse-server: -timeout must be positive\n"}},
		{"reverse-repl", []string{"-h"}, 0, []string{"usage: reverse-repl [-addr host:port] [-echo] [-timeout duration]\n", reverse.Help}},
		{"reverse-repl", []string{"-nope"}, 2, []string{"flag provided but not defined: -nope\n", "usage: reverse-repl"}},
		{"reverse-repl", []string{"dial"}, 2, []string{"reverse-repl: unexpected argument \"dial\" (type the commands, or pipe them in)\n", "usage: reverse-repl"}},
		{"reverse-repl", []string{"-timeout", "-1s"}, 2, []string{"reverse-repl: -timeout cannot be negative\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			p := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/"+tt.cmd), tt.args...))
			assert.Equal(t, tt.wantCode, p.Wait())
			for _, want := range tt.wantErr {
				assert.Contains(t, p.Stderr(), want)
			}
			assert.Empty(t, p.Stdout())
		})
	}
}
