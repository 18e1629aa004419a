package readme

import (
	"encoding/binary"
	"net"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"strconv"
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
// The servers listen on free ports, not on 65432 and 65433; the transcripts
// are rewritten back to those ports before they are compared.
func TestREADME(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the README shows the bytes a little-endian machine sends")
	}
	readme := coursecheck.OpenChapter(t, "06-app-protocol")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/app-server")
	client := testutil.Build(t, "./cmd/app-client")

	// talkTo rewrites the README's commands to use the built commands and
	// the address addr instead of the port shown.
	talkTo := func(addr, shown string) []string {
		host, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/app-client", client,
			"go run ./cmd/app-server", server,
			"127.0.0.1 " + shown, host + " " + port,
			":" + shown, ":" + port,
		}
	}
	// asShown rewrites a transcript back: addr becomes the port shown,
	// other ports become PORT.
	asShown := func(addr, shown string) func(string) string {
		host, port, _ := net.SplitHostPort(addr)
		return func(s string) string {
			s = strings.ReplaceAll(s, addr, net.JoinHostPort(host, shown))
			s = strings.ReplaceAll(s, "('"+host+"', "+port+")", "('"+host+"', "+shown+")")
			s = pythonPort.ReplaceAllString(s, "('$1', PORT)")
			return testutil.MaskPorts(s, "65432", "65433")
		}
	}
	// quietServer starts an app-server of its own, for the blocks that
	// do not show the server's side.
	quietServer := func(t *testing.T) string {
		p := testutil.Start(t, exec.Command(server, "-q", "-addr", "127.0.0.1:0"))
		return p.WaitOutput(`listening on (\S+)`)[1]
	}

	t.Run("run it", func(t *testing.T) {
		addr := freeAddr(t)
		term := coursecheck.NewTerminal(t, talkTo(addr, "65432")...)
		srv := term.Start(readme.Command(t, "server"))
		srv.WaitOutput(`listening on \S+`)
		readme.Check(t, "client", readme.Transcript(t, "client", talkTo(addr, "65432")...), asShown(addr, "65432"))
		srv.WaitOutput(`(?s)(closing connection.*){3}`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term.Transcript(), asShown(addr, "65432"))
	})

	t.Run("keepalive", func(t *testing.T) {
		addr := quietServer(t)
		readme.Check(t, "keepalive", readme.Transcript(t, "keepalive", talkTo(addr, "65432")...), asShown(addr, "65432"))
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", nil...))
	})

	t.Run("python client", func(t *testing.T) {
		readme.Uses(t, "python-client")
		readme.Need(t, "python3")
		addr := quietServer(t)
		readme.Check(t, "python-client", readme.Transcript(t, "python-client", talkTo(addr, "65432")...), asShown(addr, "65432"))
	})

	t.Run("python server", func(t *testing.T) {
		readme.Uses(t, "python-server")
		readme.Need(t, "python3")
		py := testutil.Start(t, exec.Command("python3", "python/app_server.py", "127.0.0.1", "0"))
		addr := net.JoinHostPort("127.0.0.1", py.WaitOutput(`Listening on \('127\.0\.0\.1', (\d+)\)`)[1])
		readme.Check(t, "python-server", readme.Transcript(t, "python-server", talkTo(addr, "65433")...), asShown(addr, "65433"))
	})

	t.Run("http", func(t *testing.T) {
		readme.Uses(t, "http")
		readme.Need(t, "nc")
		p := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
		addr := p.WaitOutput(`listening on (\S+)`)[1]
		readme.Check(t, "http", readme.Transcript(t, "http", talkTo(addr, "65432")...))
		p.WaitOutput(`rejected: bad JSON header: starts with 'T' where '\{' should be: not this protocol\n`)
	})

	// The README's line on other netcats: Ncat without -N, and
	// netcat-traditional with -q 1 in its place, print the same.
	t.Run("http with other netcats", func(t *testing.T) {
		for _, nc := range []struct{ tool, insteadOfN string }{{"ncat", ""}, {"nc.traditional", "-q 1 "}} {
			t.Run(nc.tool, func(t *testing.T) {
				bin := testutil.NeedTool(t, nc.tool)
				p := testutil.Start(t, exec.Command(server, "-addr", "127.0.0.1:0"))
				addr := p.WaitOutput(`listening on (\S+)`)[1]
				rewrites := append([]string{"nc -N ", bin + " " + nc.insteadOfN}, talkTo(addr, "65432")...)
				readme.Check(t, "http", readme.Transcript(t, "http", rewrites...))
			})
		}
	})

	// ping needs no server. The block shows Linux's ping, from iputils
	// (Debian's iputils-ping); its times are masked.
	t.Run("ping", func(t *testing.T) {
		readme.Uses(t, "ping")
		ping := readme.Need(t, "ping")
		if runtime.GOOS != "linux" {
			readme.Skip(t, "the README shows the ping of Linux (iputils), which prints its statistics differently from the BSDs'")
		}
		if version, _ := exec.Command(ping, "-V").CombinedOutput(); !strings.Contains(string(version), "iputils") {
			if os.Getenv("CI") != "" {
				t.Fatalf("the README shows iputils' ping, and CI is set: install iputils-ping (ping -V printed %q)", version)
			}
			readme.Skip(t, "the README shows iputils' ping; this one is not")
		}
		got := readme.Transcript(t, "ping")
		if strings.Contains(got, "Operation not permitted") {
			if os.Getenv("CI") != "" {
				t.Fatalf("ping may not open an ICMP socket, and CI is set: run CI as root\n%s", got)
			}
			readme.Skip(t, "ping needs an ICMP socket: root, CAP_NET_RAW, or a group in net.ipv4.ping_group_range")
		}
		readme.Check(t, "ping", got, pingTimes)
	})

	t.Run("never read", func(t *testing.T) {
		readme.Uses(t, "never-read-server", "flood", "ss")
		ss := readme.Need(t, "ss")
		addr := freeAddr(t)
		_, port, _ := net.SplitHostPort(addr)

		// The README says to stop the server left running from "Run
		// it" first: while it runs, the port is taken.
		first := coursecheck.NewTerminal(t, talkTo(addr, "65432")...)
		left := first.Start(readme.Command(t, "server"))
		left.WaitOutput(`listening on \S+`)
		tooSoon := coursecheck.NewTerminal(t, talkTo(addr, "65432")...)
		assert.Equal(t, 1, tooSoon.Run(readme.Command(t, "never-read-server")))
		assert.Contains(t, tooSoon.Transcript(), ": bind: address already in use\n")
		first.Interrupt(left)
		assert.Equal(t, 0, left.Wait())

		term := coursecheck.NewTerminal(t, talkTo(addr, "65432")...)
		srv := term.Start(readme.Command(t, "never-read-server"))
		srv.WaitOutput(`listening on \S+`)

		flooder := coursecheck.NewTerminal(t, talkTo(addr, "65432")...)
		flood := flooder.Start(readme.Command(t, "flood"))
		// The client's Send-Q and the server's Recv-Q fill in
		// milliseconds; the client then waits five seconds in Write.
		testutil.WaitFor(t, "both queues to hold bytes", func() bool {
			out, err := exec.Command(ss, "-tn", "( sport = :"+port+" or dport = :"+port+" )").Output()
			return err == nil && queuesFull(string(out))
		})
		readme.Check(t, "ss", readme.Transcript(t, "ss", talkTo(addr, "65432")...), coursecheck.SquashSpaces, asShown(addr, "65432"), ssQueues, sortLines)

		assert.Equal(t, 1, flood.Wait())
		readme.Check(t, "flood", flooder.Transcript(), asShown(addr, "65432"), byteCount)
		srv.WaitOutput(`accepted connection`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "never-read-server", term.Transcript(), asShown(addr, "65432"))
	})
}

// freeAddr returns an address on which nothing listens, for a server
// that a README command starts with HOST PORT.
func freeAddr(t *testing.T) string {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// pythonPort matches the other ports in a Python address tuple.
var pythonPort = regexp.MustCompile(`\('([\d.]+)', (\d+)\)`)

// queuesFull reports whether ss output shows one end of a connection with
// bytes in its Recv-Q and the other with bytes in its Send-Q.
func queuesFull(ssOutput string) bool {
	var recv, send bool
	for _, line := range strings.Split(ssOutput, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || f[0] != "ESTAB" {
			continue
		}
		r, _ := strconv.Atoi(f[1])
		s, _ := strconv.Atoi(f[2])
		recv = recv || r > 0
		send = send || s > 0
	}
	return recv && send
}

// ssQueues keeps which queue sizes are zero and masks the others, which
// depend on the kernel's buffer settings.
func ssQueues(s string) string {
	return ssRow.ReplaceAllStringFunc(s, func(row string) string {
		f := strings.SplitN(row, " ", 3)
		for i := 1; i <= 2; i++ {
			if f[i] != "0" {
				f[i] = "N"
			}
		}
		return strings.Join(f, " ")
	})
}

var ssRow = regexp.MustCompile(`(?m)^ESTAB \d+ \d+`)

// byteCount masks how many bytes the kernel took before a write waited.
func byteCount(s string) string {
	return afterBytes.ReplaceAllString(s, "after N bytes")
}

var afterBytes = regexp.MustCompile(`after \d+ bytes`)

// pingTimes masks the times ping measures.
func pingTimes(s string) string {
	s = pingTime.ReplaceAllString(s, "time${1}T")
	return pingRTT.ReplaceAllString(s, "= T/T/T/T ms")
}

var (
	pingTime = regexp.MustCompile(`time([= ])[\d.]+`)
	pingRTT  = regexp.MustCompile(`= [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms`)
)

// sortLines puts the lines in order, for output whose order is not
// fixed (ss lists sockets in no particular order).
func sortLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
