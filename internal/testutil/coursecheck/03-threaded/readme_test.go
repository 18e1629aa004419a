package readme

import (
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil"
	"example.com/sockets/internal/testutil/coursecheck"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// defaultAddr is where the chapter's programs listen and dial by default.
const defaultAddr = "127.0.0.1:8888"

// TestREADME runs every command that README.md shows, the way a learner
// would, and compares what they print with what the README says they print.
// The servers listen on free ports, not on 8888; the transcripts are
// rewritten back to 8888 before they are compared.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "03-threaded")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	server := testutil.Build(t, "./cmd/threaded-server")
	client := testutil.Build(t, "./cmd/threaded-client")

	asShown := func(addr string) func(string) string {
		return func(s string) string {
			return testutil.MaskPorts(strings.ReplaceAll(s, addr, defaultAddr), "8888")
		}
	}
	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/threaded-client", client + " -addr " + addr,
			"go run ./cmd/threaded-server", server + " -addr " + addr,
			"127.0.0.1 8888", "127.0.0.1 " + port,
		}
	}
	// run types the commands of block into a new terminal and returns
	// what it shows and each command's exit code.
	runCodes := func(block string, rewrites []string) (string, []int) {
		term := coursecheck.NewTerminal(t, rewrites...)
		var codes []int
		for _, line := range readme.Commands(t, block) {
			codes = append(codes, term.Run(line))
		}
		return term.Transcript(), codes
	}
	run := func(block string, rewrites []string) string {
		transcript, _ := runCodes(block, rewrites)
		return transcript
	}
	startServer := func(block string) (*coursecheck.Terminal, *testutil.Process, string) {
		term := coursecheck.NewTerminal(t, "go run ./cmd/threaded-server", server+" -addr 127.0.0.1:0")
		srv := term.Start(readme.Command(t, block))
		return term, srv, srv.WaitOutput(`listening on (\S+)`)[1]
	}

	t.Run("run it", func(t *testing.T) {
		term, srv, addr := startServer("server")
		transcript, codes := runCodes("client", talkTo(addr))
		readme.Check(t, "client", transcript, asShown(addr))
		assert.Equal(t, []int{0, 0}, codes, "the README says the client exits with status 0")
		srv.WaitOutput(`(?s)(disconnected after 2 lines\n.*){2}`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term.Transcript(), asShown(addr))
	})

	t.Run("one client does not hold up the others", func(t *testing.T) {
		readme.Uses(t, "hold", "meanwhile", "stop", "hold-goodbye")
		readme.Need(t, "nc")
		term, srv, addr := startServer("stop")
		// In a terminal, nc's input stays open until Ctrl-C; from
		// /dev/null it would end at once, and nc would quit as soon as
		// the server hangs up. sleep keeps it open, as a terminal does.
		_, port, _ := net.SplitHostPort(addr)
		hold := coursecheck.NewTerminal(t, "nc 127.0.0.1 8888", "sleep 60 | nc 127.0.0.1 "+port)
		nc := hold.Start(readme.Command(t, "hold"))
		nc.WaitOutput(`hit enter\n`)
		// What the nc terminal shows before the server is stopped.
		readme.Check(t, "hold", hold.Transcript(), asShown(addr))
		srv.WaitOutput("connected with")
		readme.Check(t, "meanwhile", run("meanwhile", talkTo(addr)), asShown(addr))
		srv.WaitOutput(`disconnected after 1 line\n`)
		term.Interrupt(srv)
		nc.WaitOutput("Goodbye")
		hold.Interrupt(nc)
		nc.Wait()
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "stop", term.Transcript(), asShown(addr))
		readme.Check(t, "hold-goodbye", hold.Transcript(), asShown(addr))
	})

	otherServer := func(t *testing.T) string {
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		return srv.WaitOutput(`listening on (\S+)`)[1]
	}

	t.Run("nc", func(t *testing.T) {
		readme.Uses(t, "nc")
		readme.Need(t, "nc")
		addr := otherServer(t)
		readme.Check(t, "nc", run("nc", talkTo(addr)), asShown(addr))
	})

	// The README's line on other netcats: Ncat without -N, and
	// netcat-traditional with -q 1 in its place, print the same.
	t.Run("other netcats", func(t *testing.T) {
		for _, nc := range []struct{ tool, insteadOfN string }{{"ncat", ""}, {"nc.traditional", "-q 1 "}} {
			t.Run(nc.tool, func(t *testing.T) {
				bin := testutil.NeedTool(t, nc.tool)
				addr := otherServer(t)
				rewrites := append([]string{"nc -N ", bin + " " + nc.insteadOfN}, talkTo(addr)...)
				readme.Check(t, "nc", run("nc", rewrites), asShown(addr))
			})
		}
	})

	t.Run("a long line", func(t *testing.T) {
		addr := otherServer(t)
		readme.Check(t, "long", run("long", talkTo(addr)), asShown(addr))
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		// The client names the address in its hint only when it is not
		// the default; the README's run uses the default, this one a
		// closed port (TestRefusedHint checks the default's hint).
		defaultHint := func(s string) string {
			return strings.ReplaceAll(s, "go run ./cmd/threaded-server -addr "+defaultAddr+"\n", "go run ./cmd/threaded-server\n")
		}
		readme.Check(t, "refused", run("refused", talkTo(closed)), asShown(closed), defaultHint)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", run("help", talkTo(defaultAddr)))
	})
}
