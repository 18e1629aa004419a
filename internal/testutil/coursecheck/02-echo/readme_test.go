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
const defaultAddr = "127.0.0.1:65432"

// TestREADME runs every command that README.md shows, the way a learner
// would, and compares what they print with what the README says they print.
// The servers listen on free ports, not on 65432; the transcripts are
// rewritten back to 65432 before they are compared.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "02-echo")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/echo-server")
	client := testutil.Build(t, "./cmd/echo-client")

	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/echo-client", client + " -addr " + addr,
			"go run ./cmd/echo-server", server + " -addr " + addr,
			"127.0.0.1 65432", "127.0.0.1 " + port,
		}
	}

	t.Run("run it", func(t *testing.T) {
		term1 := coursecheck.NewTerminal(t, "go run ./cmd/echo-server", server+" -addr 127.0.0.1:0")
		srv := term1.Start(readme.Command(t, "server"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]

		readme.Check(t, "client", readme.Transcript(t, "client", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		srv.WaitOutput(`(?s)(echoed \d+ bytes to \S+\n.*){2}`)
		term1.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term1.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("nc", func(t *testing.T) {
		readme.Uses(t, "nc", "nc-big", "hold", "waits")
		readme.Need(t, "nc")
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		readme.Check(t, "nc", readme.Transcript(t, "nc", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		readme.Check(t, "nc-big", readme.Transcript(t, "nc-big", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))

		// One client holds the server; the next one waits and times out.
		hold := coursecheck.NewTerminal(t, talkTo(addr)...)
		nc := hold.Start(readme.Command(t, "hold"))
		srv.WaitOutput(`(?s)(connection from .*){3}`) // nc is the one being served
		readme.Check(t, "waits", readme.Transcript(t, "waits", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		hold.Interrupt(nc)
		nc.Wait()
		readme.Check(t, "hold", hold.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	// The README's line on other netcats: Ncat without -N, and
	// netcat-traditional with -q 1 in its place, print the same.
	t.Run("other netcats", func(t *testing.T) {
		for _, nc := range []struct{ tool, insteadOfN string }{{"ncat", ""}, {"nc.traditional", "-q 1 "}} {
			t.Run(nc.tool, func(t *testing.T) {
				bin := testutil.NeedTool(t, nc.tool)
				srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
				addr := srv.WaitOutput(`listening on (\S+)`)[1]
				rewrites := append([]string{"nc -N ", bin + " " + nc.insteadOfN}, talkTo(addr)...)
				readme.Check(t, "nc", readme.Transcript(t, "nc", rewrites...), coursecheck.AsShown(addr, defaultAddr))
			})
		}
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		// The README runs the client on the default address, where the
		// hint has no -addr; here the client is given another address,
		// and its hint adds "-addr ADDR" (TestRefusedHint in
		// cmd/echo-client covers both).
		defaultHint := func(s string) string {
			return strings.Replace(s, "go run ./cmd/echo-server -addr "+defaultAddr+"\n", "go run ./cmd/echo-server\n", 1)
		}
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), coursecheck.AsShown(closed, defaultAddr), defaultHint)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", talkTo(defaultAddr)...))
	})
}
