package readme

import (
	"net"
	"os/exec"
	"regexp"
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
// The servers listen on free ports, not on 65432; the transcripts are
// rewritten back to 65432 before they are compared.
func TestREADME(t *testing.T) {
	readme := coursecheck.OpenChapter(t, "05-multiconn")
	readme.CheckGoSnippets(t, ".")
	readme.CheckTestNames(t, ".")
	readme.CheckDiffs(t)
	server := testutil.Build(t, "./cmd/multiconn-server")
	client := testutil.Build(t, "./cmd/multiconn-client")

	talkTo := func(addr string) []string {
		host, port, _ := net.SplitHostPort(addr)
		return []string{
			"go run ./cmd/multiconn-client 127.0.0.1 65432", client + " " + host + " " + port,
			"go run ./cmd/multiconn-client", client + " -addr " + addr,
			"go run ./cmd/multiconn-server 127.0.0.1 65432", server + " " + host + " " + port,
			"go run ./cmd/multiconn-server", server + " -addr " + addr,
		}
	}

	t.Run("run it", func(t *testing.T) {
		ln := testutil.Listen(t)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close()) // a free port, for the HOST PORT form
		term := coursecheck.NewTerminal(t, talkTo(addr)...)
		srv := term.Start(readme.Command(t, "server"))
		srv.WaitOutput(`listening on \S+`)

		// Connections run at once: compare their lines in any order,
		// and join what TCP happened to split into several reads.
		readme.Check(t, "client", readme.Transcript(t, "client", talkTo(addr)...), joinReads, coursecheck.AsShown(addr, defaultAddr), sortLines)
		srv.WaitOutput(`(?s)(closing connection.*){2}`)
		term.Interrupt(srv)
		assert.Equal(t, 0, srv.Wait())
		readme.Check(t, "server", term.Transcript(), joinReads, coursecheck.AsShown(addr, defaultAddr), sortLines)
	})

	t.Run("load", func(t *testing.T) {
		srv := testutil.Start(t, exec.Command(server, "-q", "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		readme.Check(t, "load", readme.Transcript(t, "load", talkTo(addr)...), coursecheck.AsShown(addr, defaultAddr), measured)
	})

	t.Run("refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		readme.Check(t, "refused", readme.Transcript(t, "refused", talkTo(closed)...), coursecheck.AsShown(closed, defaultAddr), hintForDefault)
	})

	t.Run("help", func(t *testing.T) {
		readme.Check(t, "help", readme.Transcript(t, "help", talkTo(defaultAddr)...))
	})
}

// echoLine is a line that shows what one Read returned, on the server
// ("echoing ... to ADDR") or on the client ("received ... from connection N").
var echoLine = regexp.MustCompile(`^(echoing|received) ("(?:[^"\\]|\\.)*") (to \S+|from connection \d+)$`)

// joinReads undoes what TCP does by chance: where one connection's bytes
// came in several reads, it joins their lines into the first, so that a
// run matches the README however the reads fell. (Run it before the ports
// are masked: the address tells the connections apart.)
func joinReads(s string) string {
	var out []string
	first := make(map[string]int) // verb and connection → index in out
	for _, line := range strings.Split(s, "\n") {
		m := echoLine.FindStringSubmatch(line)
		if m == nil {
			out = append(out, line)
			continue
		}
		data, err := strconv.Unquote(m[2])
		if err != nil {
			out = append(out, line)
			continue
		}
		key := m[1] + " " + m[3]
		if i, ok := first[key]; ok {
			prev := echoLine.FindStringSubmatch(out[i])
			before, _ := strconv.Unquote(prev[2])
			out[i] = m[1] + " " + strconv.Quote(before+data) + " " + m[3]
			continue
		}
		first[key] = len(out)
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// hintForDefault turns the client's hint for the test's address, shown
// as the default one, into the hint for the default address itself, which
// leaves -addr out. (The test cannot use the default port, which may be
// taken; the hint for each kind of address has its own test.)
func hintForDefault(s string) string {
	return defaultAddrHint.ReplaceAllString(s, "$1")
}

var defaultAddrHint = regexp.MustCompile(`(?m)^(is the server running\? .* go run \./cmd/multiconn-server) -addr ` + regexp.QuoteMeta(defaultAddr) + `$`)

// sortLines puts the lines in order, for output whose order depends on
// how concurrent connections were scheduled.
func sortLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// measured masks what a load run measures (durations, rates) and keeps
// what it counts.
func measured(s string) string {
	s = measuredRate.ReplaceAllString(s, "N $1")
	return measuredTime.ReplaceAllString(s, "T")
}

var (
	measuredRate = regexp.MustCompile(`\d+(?:\.\d+)? (msgs/s|MB/s)`)
	measuredTime = regexp.MustCompile(`\d+(?:\.\d+)?(?:ns|µs|ms|s)\b`)
)
