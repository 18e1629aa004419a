package readme

import (
	"bufio"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/internal/testutil"
	"example.com/sockets/internal/testutil/coursecheck"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// defaultAddr is where the chapter's programs listen and dial by default.
const defaultAddr = "127.0.0.1:5000"

// pollSupported says whether the chapter builds its poll(2) server here: on
// unix systems only.
const pollSupported = runtime.GOOS != "windows" && runtime.GOOS != "plan9" &&
	runtime.GOOS != "js" && runtime.GOOS != "wasip1"

// TestREADME runs every command that README.md shows, the way a learner
// would, and compares what they print with what the README says they print.
// The servers listen on free ports, not on 5000; the transcripts are
// rewritten back to 5000 before they are compared.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "04-select")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/chat-server")
	client := testutil.Build(t, "./cmd/chat-client")

	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/chat-client", client + " -addr " + addr,
			"go run ./cmd/chat-server", server + " -addr " + addr,
			// In a terminal, nc's input stays open until Ctrl-C; sleep
			// keeps it open here, where it would otherwise be empty.
			"nc 127.0.0.1 5000", "sleep 60 | nc 127.0.0.1 " + port,
		}
	}
	startServer := func(t *testing.T, block string) (*coursecheck.Terminal, *testutil.Process, string) {
		term := coursecheck.NewTerminal(t, "go run ./cmd/chat-server", server+" -addr 127.0.0.1:0")
		srv := term.Start(readme.Command(t, block))
		return term, srv, srv.WaitOutput(`listening on (\S+)`)[1]
	}

	// The hub and the poll(2) loop: the same session, each with its own
	// blocks.
	for _, tt := range []struct {
		name, server, client string
		pollOnly             bool
	}{
		{"run it", "server", "client", false},
		{"poll", "poll", "poll-client", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.pollOnly {
				readme.Uses(t, tt.server, tt.client)
				if !pollSupported {
					readme.Skip(t, "the poll(2) server is built on unix systems only")
				}
			}
			term, srv, addr := startServer(t, tt.server)
			readme.Check(t, tt.client, readme.Transcript(t, tt.client, talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
			srv.WaitOutput("is offline\n")
			term.Interrupt(srv)
			assert.Equal(t, 0, srv.Wait())
			readme.Check(t, tt.server, term.Transcript(), coursecheck.AsShown(addr, defaultAddr))
		})
	}

	t.Run("nc", func(t *testing.T) {
		readme.Uses(t, "listen")
		readme.Need(t, "nc")
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		listen := coursecheck.NewTerminal(t, talkTo(addr)...)
		nc := listen.Start(readme.Command(t, "listen"))
		srv.WaitOutput("connected")
		// "Then run the first chat-client command again."
		again := coursecheck.NewTerminal(t, talkTo(addr)...)
		assert.Equal(t, 0, again.Run(readme.Commands(t, "client")[0]))
		nc.WaitOutput("is offline\n")
		listen.Interrupt(nc)
		nc.Wait()
		readme.Check(t, "listen", listen.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("paste", func(t *testing.T) {
		readme.Uses(t, "paste")
		readme.Need(t, "nc")
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		// The listening nc of the section before stays in the room.
		listener := testutil.Dial(t, addr)
		listen := bufio.NewReader(listener)
		srv.WaitOutput("connected")
		_, port, _ := net.SplitHostPort(addr)
		readme.Check(t, "paste", readme.Transcript(t, "paste", []string{"nc -N 127.0.0.1 5000", "nc -N 127.0.0.1 " + port}...))
		// It hears every line, in order.
		for i := 1; i <= 1000; i++ {
			line, err := listen.ReadString('\n')
			require.NoError(t, err)
			require.Regexp(t, fmt.Sprintf(`^<127\.0\.0\.1:\d+> %d\n$`, i), line)
		}
		assert.NotContains(t, srv.Stdout(), "not reading")
	})

	t.Run("lines of code", func(t *testing.T) {
		readme.Check(t, "lines", readme.Transcript(t, "lines", nil...))
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		// The client names the address in its hint only when it is not
		// the default; the README's run uses the default, this one a
		// closed port (TestRefusedHint checks the default's hint).
		defaultHint := func(s string) string {
			return strings.ReplaceAll(s, "go run ./cmd/chat-server -addr "+defaultAddr+"\n", "go run ./cmd/chat-server\n")
		}
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), coursecheck.AsShown(closed, defaultAddr), defaultHint)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", talkTo(defaultAddr)...))
	})
}
