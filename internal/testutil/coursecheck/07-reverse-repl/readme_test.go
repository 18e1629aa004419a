package readme

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil"
	"example.com/sockets/internal/testutil/coursecheck"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// defaultAddr is where the chapter's programs listen and dial by default.
const defaultAddr = "127.0.0.1:7342"

// TestREADME runs every command that README.md shows, the way a learner
// would, and compares what they print with what the README says they print.
// The servers listen on free ports, not on 7342; the transcripts are
// rewritten back to 7342 before they are compared.
//
// A session at reverse-repl's prompt is replayed from the lines the README
// shows after the "> " prompt: they become the REPL's input, and -echo makes
// it print each one after the prompt, as a terminal shows what is typed. A
// line that starts with "^C" in the README is Ctrl-C, pressed once the REPL
// has echoed the command before it.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "07-reverse-repl")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/reverse-server")
	repl := testutil.Build(t, "./cmd/reverse-repl")

	// talkTo rewrites the README's command lines to run the built
	// commands, and to use addr instead of the README's address.
	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/reverse-server", server + " -addr " + addr,
			"go run ./cmd/reverse-repl", repl,
			defaultAddr, addr,
			"127.0.0.1 7342", "127.0.0.1 " + port,
		}
	}
	// session starts the REPL session that the console block shows, with
	// the README's address replaced by addr. Wait for it with the
	// Process, then read the Terminal's transcript.
	session := func(block, addr string) (*coursecheck.Terminal, *testutil.Process) {
		text := readme.Text(t, block)
		input, interrupts := typedLines(text)
		file := filepath.Join(t.TempDir(), "input")
		require.NoError(t, os.WriteFile(file, []byte(strings.ReplaceAll(input, defaultAddr, addr)), 0o644))
		term := coursecheck.NewTerminal(t, "go run ./cmd/reverse-repl", repl+" -echo < "+file)
		p := term.Start(readme.Command(t, block))
		for _, cmd := range interrupts {
			p.WaitOutput(`(?m)^> ` + regexp.QuoteMeta(cmd) + `\n`)
			term.Interrupt(p)
		}
		return term, p
	}
	startServer := func(block string) (*coursecheck.Terminal, *testutil.Process, string) {
		addr := freeAddr(t)
		term := coursecheck.NewTerminal(t, talkTo(addr)...)
		srv := term.Start(readme.Command(t, block))
		srv.WaitOutput(`listening on \S+`)
		return term, srv, addr
	}
	quietServer := func(t *testing.T, args ...string) string {
		p := testutil.Start(t, exec.Command(server, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
		return p.WaitOutput(`listening on (\S+)`)[1]
	}

	// serverAndClient checks a server's terminal and a REPL session with
	// it: the session first, then the server's log of it and its Ctrl-C.
	serverAndClient := func(serverBlock, clientBlock string) {
		term, srv, addr := startServer(serverBlock)
		client, p := session(clientBlock, addr)
		assert.Equal(t, 0, p.Wait())
		readme.Check(t, clientBlock, client.Transcript(), coursecheck.AsShown(addr, defaultAddr))
		srv.WaitOutput(`closing connection to \S+\n`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, serverBlock, term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	}

	t.Run("run it", func(t *testing.T) {
		serverAndClient("server", "client")
	})

	t.Run("bare line", func(t *testing.T) {
		addr := quietServer(t)
		term, p := session("bare", addr)
		assert.Equal(t, 0, p.Wait())
		readme.Check(t, "bare", term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("pipe", func(t *testing.T) {
		addr := quietServer(t)
		readme.Check(t, "pipe", readme.Transcript(t, "pipe", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("nc", func(t *testing.T) {
		readme.Uses(t, "nc")
		readme.Need(t, "nc")
		addr := quietServer(t)
		readme.Check(t, "nc", readme.Transcript(t, "nc", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("both sides by hand", func(t *testing.T) {
		addr := freeAddr(t)
		serverSide, listening := session("by-hand-server", addr)
		// Its accept now waits for the client that the other session
		// dials; each side's recv waits for what the other sends.
		listening.WaitOutput(`listening on \S+\n`)
		clientSide, dialing := session("by-hand-client", addr)
		assert.Equal(t, 0, dialing.Wait())
		assert.Equal(t, 0, listening.Wait())
		readme.Check(t, "by-hand-server", serverSide.Transcript(), coursecheck.AsShown(addr, defaultAddr))
		readme.Check(t, "by-hand-client", clientSide.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("a recv that waits", func(t *testing.T) {
		addr := quietServer(t)
		term, p := session("wait", addr)
		assert.Equal(t, 1, p.Wait())
		readme.Check(t, "wait", term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("runes and bytes", func(t *testing.T) {
		serverAndClient("bytes-server", "bytes-client")
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		// The README dials the default address, where the hint needs
		// no -addr; the test dials closed instead, and the hint names
		// it. (TestRefusedHint checks the hint for each address.)
		asDefault := func(s string) string {
			return strings.ReplaceAll(s, "go run ./cmd/reverse-server -addr "+closed+"\n", "go run ./cmd/reverse-server\n")
		}
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), asDefault, coursecheck.AsShown(closed, defaultAddr))
	})
}

// typedLines returns what a console block shows typed at reverse-repl's
// "> " prompt, one line each, and the commands after which it shows ^C.
func typedLines(block string) (input string, interrupts []string) {
	var typed strings.Builder
	last := ""
	for line := range strings.Lines(block) {
		line = strings.TrimSuffix(line, "\n")
		if cmd, ok := strings.CutPrefix(line, "> "); ok {
			typed.WriteString(cmd + "\n")
			last = cmd
		}
		if strings.HasPrefix(line, "^C") {
			interrupts = append(interrupts, last)
		}
	}
	return typed.String(), interrupts
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, for a command that must listen on an address given in advance.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}
