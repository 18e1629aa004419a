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
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/threaded-server")
	client := testutil.Build(t, "./cmd/threaded-client")

	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/threaded-client", client + " -addr " + addr,
			"go run ./cmd/threaded-server", server + " -addr " + addr,
			"127.0.0.1 8888", "127.0.0.1 " + port,
		}
	}
	// runCodes is readme.Transcript that also returns each command's
	// exit code.
	runCodes := func(block string, rewrites []string) (string, []int) {
		term := coursecheck.NewTerminal(t, rewrites...)
		var codes []int
		for _, line := range readme.Commands(t, block) {
			codes = append(codes, term.Run(line))
		}
		return term.Transcript(), codes
	}
	startServer := func(block string) (*coursecheck.Terminal, *testutil.Process, string) {
		term := coursecheck.NewTerminal(t, "go run ./cmd/threaded-server", server+" -addr 127.0.0.1:0")
		srv := term.Start(readme.Command(t, block))
		return term, srv, srv.WaitOutput(`listening on (\S+)`)[1]
	}

	t.Run("run it", func(t *testing.T) {
		term, srv, addr := startServer("server")
		transcript, codes := runCodes("client", talkTo(addr))
		readme.Check(t, "client", transcript, coursecheck.AsShown(addr, defaultAddr))
		assert.Equal(t, []int{0, 0}, codes, "the README says the client exits with status 0")
		srv.WaitOutput(`(?s)(disconnected after 2 lines\n.*){2}`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
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
		readme.Check(t, "hold", hold.Transcript(), coursecheck.AsShown(addr, defaultAddr))
		srv.WaitOutput("connected with")
		readme.Check(t, "meanwhile", readme.Transcript(t, "meanwhile", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		srv.WaitOutput(`disconnected after 1 line\n`)
		term.Interrupt(srv)
		nc.WaitOutput("Goodbye")
		hold.Interrupt(nc)
		nc.Wait()
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "stop", term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
		readme.Check(t, "hold-goodbye", hold.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	otherServer := func(t *testing.T) string {
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		return srv.WaitOutput(`listening on (\S+)`)[1]
	}

	t.Run("nc", func(t *testing.T) {
		readme.Uses(t, "nc")
		readme.Need(t, "nc")
		addr := otherServer(t)
		readme.Check(t, "nc", readme.Transcript(t, "nc", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
	})

	// The README's line on other netcats: Ncat without -N, and
	// netcat-traditional with -q 1 in its place, print the same.
	t.Run("other netcats", func(t *testing.T) {
		for _, nc := range []struct{ tool, insteadOfN string }{{"ncat", ""}, {"nc.traditional", "-q 1 "}} {
			t.Run(nc.tool, func(t *testing.T) {
				bin := testutil.NeedTool(t, nc.tool)
				addr := otherServer(t)
				rewrites := append([]string{"nc -N ", bin + " " + nc.insteadOfN}, talkTo(addr)...)
				readme.Check(t, "nc", readme.Transcript(t, "nc", rewrites...), coursecheck.AsShown(addr, defaultAddr))
			})
		}
	})

	t.Run("a long line", func(t *testing.T) {
		addr := otherServer(t)
		readme.Check(t, "long", readme.Transcript(t, "long", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
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
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), coursecheck.AsShown(closed, defaultAddr), defaultHint)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", talkTo(defaultAddr)...))
	})
}
