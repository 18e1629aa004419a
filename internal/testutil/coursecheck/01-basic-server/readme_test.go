package readme

import (
	"net"
	"os/exec"
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
const defaultAddr = "127.0.0.1:5000"

// TestREADME runs every command that README.md shows, the way a learner
// would, and compares what they print with what the README says they print.
// The servers listen on free ports, not on 5000; the transcripts are
// rewritten back to 5000 before they are compared.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "01-basic-server")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/basic-server")
	client := testutil.Build(t, "./cmd/basic-client")

	// talkTo returns the rewrites that point the README's commands at
	// the server on addr instead of 127.0.0.1:5000.
	talkTo := func(addr string) []string {
		_, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/basic-client", client + " -addr " + addr,
			"go run ./cmd/basic-server", server + " -addr " + addr,
			"127.0.0.1 5000", "127.0.0.1 " + port,
			":5000", ":" + port,
		}
	}

	t.Run("run it", func(t *testing.T) {
		term1 := coursecheck.NewTerminal(t, "go run ./cmd/basic-server", server+" -addr 127.0.0.1:0")
		srv := term1.Start(readme.Command(t, "server"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]

		readme.Check(t, "client", readme.Transcript(t, "client", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		// Like a person at the terminal, see the line before pressing Ctrl-C.
		peer := srv.WaitOutput(`connection from (\S+)\n`)[1]

		t.Run("time-wait", func(t *testing.T) {
			// The server closed first, so its end of the connection
			// waits in TIME_WAIT once the client's FIN has arrived.
			readme.Uses(t, "time-wait")
			ss := readme.Need(t, "ss")
			// Only this connection: with go test -count, earlier runs
			// may have left TIME_WAITs on a port of the same number.
			_, port, _ := net.SplitHostPort(addr)
			filter := "sport = :" + port + " and dst " + peer
			testutil.WaitFor(t, "the server's end to reach TIME_WAIT", func() bool {
				out, err := exec.Command(ss, "-Htn", "state", "time-wait", filter).Output()
				return err == nil && len(out) > 0
			})
			rewrites := append(talkTo(addr), "'sport = :5000'", "'"+filter+"'")
			readme.Check(t, "time-wait", readme.Transcript(t, "time-wait", rewrites...), coursecheck.AsShown(addr, defaultAddr), coursecheck.SquashSpaces)
		})

		term1.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term1.Transcript(), coursecheck.AsShown(addr, defaultAddr))
	})

	t.Run("tools", func(t *testing.T) {
		srv := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]

		readme.Check(t, "in-use", readme.Transcript(t, "in-use", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		t.Run("nc", func(t *testing.T) {
			readme.Uses(t, "nc", "nc-no-input")
			readme.Need(t, "nc")
			// In a terminal, nc's input is the keyboard, which stays
			// open: after the greeting nc waits until Ctrl-C. Commands
			// run here read /dev/null, so a process substitution that
			// never ends stands in for the keyboard.
			_, port, _ := net.SplitHostPort(addr)
			term := coursecheck.NewTerminal(t, "nc 127.0.0.1 5000", "nc 127.0.0.1 "+port+" < <(sleep 600)")
			nc := term.Start(readme.Command(t, "nc"))
			nc.WaitOutput("Thank you for connecting\n")
			term.Interrupt(nc)
			// -1: nc was still running, and Ctrl-C's SIGINT ended it.
			assert.Equal(t, -1, nc.Wait(), "nc should wait for its input after the greeting")
			readme.Check(t, "nc", term.Transcript(), coursecheck.AsShown(addr, defaultAddr))

			readme.Check(t, "nc-no-input", readme.Transcript(t, "nc-no-input", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr))
		})
		// The README's line on other netcats: Ncat prints the same,
		// and netcat-traditional returns after the greeting even
		// while its input stays open.
		t.Run("ncat", func(t *testing.T) {
			ncat := testutil.NeedTool(t, "ncat")
			readme.Check(t, "nc-no-input", readme.Transcript(t, "nc-no-input", append([]string{"nc ", ncat + " "}, talkTo(addr)...)...), coursecheck.AsShown(addr, defaultAddr))
		})
		t.Run("nc.traditional", func(t *testing.T) {
			nc := testutil.NeedTool(t, "nc.traditional")
			_, port, _ := net.SplitHostPort(addr)
			// The keyboard's stand-in, as above, but with its stderr
			// away from the transcript, so that nc and the shell can
			// end while it waits.
			term := coursecheck.NewTerminal(t, "nc 127.0.0.1 5000", nc+" 127.0.0.1 "+port+" < <(sleep 600 2>/dev/null)")
			p := term.Start(readme.Command(t, "nc"))
			assert.Equal(t, 0, p.Wait(), "nc.traditional returns by itself while its input is open")
			p.Interrupt() // the stand-in is still there, in the same process group
			readme.Check(t, "nc-no-input", strings.Replace(term.Transcript(), "5000", "5000 </dev/null", 1), coursecheck.AsShown(addr, defaultAddr))
		})
		t.Run("ss", func(t *testing.T) {
			readme.Uses(t, "ss")
			readme.Need(t, "ss")
			readme.Check(t, "ss", readme.Transcript(t, "ss", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr), coursecheck.SquashSpaces, ssBacklog, ssProcessColumn)
		})
		t.Run("lsof", func(t *testing.T) {
			readme.Uses(t, "lsof")
			readme.Need(t, "lsof")
			readme.Check(t, "lsof", readme.Transcript(t, "lsof", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr), lsofColumns)
		})
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		// The README runs the client on the default address, where the
		// hint has no -addr; here the client is given another address,
		// and its hint adds "-addr ADDR" (TestRefusedHint in
		// cmd/basic-client covers both).
		defaultHint := func(s string) string {
			return strings.Replace(s, "go run ./cmd/basic-server -addr "+defaultAddr+"\n", "go run ./cmd/basic-server\n", 1)
		}
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), coursecheck.AsShown(closed, defaultAddr), defaultHint)
	})

	t.Run("timeout", func(t *testing.T) {
		readme.Uses(t, "silent-server", "timeout")
		readme.Need(t, "nc")
		// nc listens on a free port instead of 5001, and prints it.
		term1 := coursecheck.NewTerminal(t, "127.0.0.1 5001", "127.0.0.1 0")
		nc := term1.Start(readme.Command(t, "silent-server"))
		port := nc.WaitOutput(`Listening on 127\.0\.0\.1 (\d+)\n`)[1]
		addr := net.JoinHostPort("127.0.0.1", port)

		transcript := readme.Transcript(t, "timeout", []string{"go run ./cmd/basic-client", client, "127.0.0.1:5001", addr}...)
		readme.Check(t, "timeout", transcript, func(s string) string { return strings.ReplaceAll(s, addr, "127.0.0.1:5001") })

		assert.Equal(t, 0, nc.Wait(), "nc exits once the client has hung up")
		shown := func(s string) string {
			s = strings.ReplaceAll(s, "127.0.0.1 "+port+"\n", "127.0.0.1 5001\n")
			return ncPeerPort.ReplaceAllString(s, "$1 PORT")
		}
		readme.Check(t, "silent-server", term1.Transcript(), shown)
	})

	t.Run("every interface", func(t *testing.T) {
		term := coursecheck.NewTerminal(t, "go run ./cmd/basic-server", server, ":5000", ":0")
		srv := term.Start(readme.Command(t, "all-interfaces"))
		srv.WaitOutput(`listening on (\S+)`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "all-interfaces", term.Transcript(), func(s string) string { return testutil.MaskPorts(s) })
	})

	t.Run("IPv6", func(t *testing.T) {
		readme.Uses(t, "ipv6-server", "ipv6-client")
		if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
			readme.Skip(t, "no IPv6 loopback here")
		} else {
			ln.Close()
		}
		term1 := coursecheck.NewTerminal(t, "go run ./cmd/basic-server", server, "[::1]:5000", "[::1]:0")
		srv := term1.Start(readme.Command(t, "ipv6-server"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		_, port, _ := net.SplitHostPort(addr)
		transcript := readme.Transcript(t, "ipv6-client", []string{"go run ./cmd/basic-client", client, "[::1]:5000", addr}...)
		srv.WaitOutput(`connection from \S+\n`)
		term1.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())

		shown := func(s string) string {
			return testutil.MaskPorts(strings.ReplaceAll(s, "]:"+port, "]:5000"), "5000")
		}
		readme.Check(t, "ipv6-server", term1.Transcript(), shown)
		readme.Check(t, "ipv6-client", transcript, shown)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", talkTo(defaultAddr)...))
	})
}

// ssBacklog hides the Send-Q of a listening socket, which is the accept
// backlog and depends on the machine (net.core.somaxconn).
func ssBacklog(s string) string {
	return regexp.MustCompile(`(?m)^LISTEN 0 \d+ `).ReplaceAllString(s, "LISTEN 0 BACKLOG ")
}

// ssProcessColumn puts back the space between ss's last two column titles,
// which ss leaves out when its output is not a terminal.
func ssProcessColumn(s string) string {
	return strings.ReplaceAll(s, "Peer Address:PortProcess", "Peer Address:Port Process")
}

// ncPeerPort matches the client's port in nc -v's "Connection received on
// 127.0.0.1 46180", which differs on every run.
var ncPeerPort = regexp.MustCompile(`(Connection received on \S+) \d+`)

// lsofColumns keeps lsof's COMMAND, TYPE, NODE and NAME columns and drops the
// ones that differ from run to run (PID, USER, FD, DEVICE, SIZE/OFF).
func lsofColumns(s string) string {
	var out []string
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) >= 9 && !strings.HasPrefix(line, "$") {
			f = append([]string{f[0], f[4], f[7]}, f[8:]...)
		}
		out = append(out, strings.Join(f, " "))
	}
	return strings.Join(out, "\n")
}
