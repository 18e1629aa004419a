package app_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

// What clients that stall in the middle of their requests cost app-server,
// run with its defaults, in memory (the growth of its resident set, read
// from /proc), while a normal client asks for a search every 100ms and
// must be answered within a second each time. Opt-in, as it takes half a
// minute, moves 200 MB through the loopback interface and reports figures:
//
//	SOCKETS_HEAVY=1 go test -run TestHeavyStalledClients -v
//
// The bounds it checks (100 MiB for 200 clients that announce 1 MiB each
// and stall one byte short) are for a run by hand, not measurements.
func TestHeavyStalledClients(t *testing.T) {
	if os.Getenv("SOCKETS_HEAVY") == "" {
		t.Skip("opt-in: set SOCKETS_HEAVY=1 to run it")
	}
	bin := testutil.Build(t, "./cmd/app-server")

	t.Run("200 clients announce 1 MiB and stall one byte short", func(t *testing.T) {
		const content = message.DefaultMaxContent
		header := rawMessage(rawHeader("binary/x", "binary", strconv.Itoa(content)), "")
		payload := append(header, strings.Repeat("x", content-1)...)
		res := stall(t, bin, 200, payload)
		assert.Less(t, res.growth, 100<<20, "the server's resident set grew by more than 100 MiB")
		held := 0
		for _, a := range res.answers {
			switch {
			case strings.HasPrefix(a, "Error: server busy: not enough memory"):
			case strings.HasPrefix(a, "Error: request not complete after 10s ("+strconv.Itoa(len(payload))+" bytes received)"):
				held++
			default:
				t.Errorf("a stalled client was answered %q", a)
			}
		}
		t.Logf("%d clients held their megabyte until the read timeout, %d were told the server was busy", held, len(res.answers)-held)
		assert.Positive(t, held)
	})

	t.Run("1000 clients send a small request and stall one byte short", func(t *testing.T) {
		header := rawMessage(rawHeader("binary/x", "binary", "3900"), "")
		payload := append(header, strings.Repeat("x", 3899)...)
		res := stall(t, bin, 1000, payload)
		t.Logf("%.1f KiB for each connection", float64(res.growth)/1000/1024)
		for _, a := range res.answers {
			assert.True(t, strings.HasPrefix(a, "Error: request not complete after 10s"), "a stalled client was answered %q", a)
		}
	})

	t.Run("1000 clients connect and send nothing", func(t *testing.T) {
		res := stall(t, bin, 1000, nil)
		t.Logf("%.1f KiB for each connection", float64(res.growth)/1000/1024)
	})
}

// stallResult is what stall measured.
type stallResult struct {
	growth  int      // bytes: the server's peak resident set less the one before
	answers []string // the result each stalled client got, in no order
}

// stall starts app-server with its defaults, connects clients that each
// send payload (if any) and then nothing more, and waits for each to get
// its answer (for those that send nothing, it closes them once the server's
// memory is measured). Meanwhile a normal client asks for a search every
// 100ms, and must be answered within a second each time.
func stall(t *testing.T, bin string, clients int, payload []byte) stallResult {
	t.Helper()
	server := testutil.Start(t, exec.Command(bin, "-q", "-addr", "127.0.0.1:0"))
	addr := server.WaitOutput(`listening on (\S+)`)[1]
	before := procStatus(t, server.Pid(), "VmRSS")

	stop := make(chan struct{})
	normal := make(chan asked, 1)
	go func() { normal <- askThroughout(addr, stop) }()

	answers := make(chan string, clients)
	conns := make([]net.Conn, clients)
	var wg sync.WaitGroup
	for i := range conns {
		c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
		require.NoError(t, err)
		conns[i] = c
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.SetDeadline(time.Now().Add(time.Minute)))
		if payload == nil {
			continue
		}
		wg.Go(func() {
			c.Write(payload) // a refused client may be cut off in the middle
			got, _ := io.ReadAll(c)
			result := fmt.Sprintf("no answer (%d bytes)", len(got))
			if m, err := message.NewDecoder(strings.NewReader(string(got))).Decode(); err == nil {
				result, _, _ = app.Result(m)
			}
			answers <- result
			c.Close()
		})
	}
	if payload == nil {
		// Idle clients: once the server has accepted them all and a
		// normal request comes after them, it is serving them.
		_, err := askOnce(addr)
		require.NoError(t, err)
	}
	wg.Wait()
	peak := procStatus(t, server.Pid(), "VmHWM")
	close(stop)
	n := testutil.Receive(t, normal, "the normal client")
	assert.NoError(t, n.err, "the normal client")
	assert.LessOrEqual(t, n.slowest, time.Second, "the normal client's slowest answer")
	if n.answered > 0 {
		t.Logf("the normal client: %d requests answered, the slowest in %v", n.answered, n.slowest.Round(time.Millisecond))
	}
	close(answers)
	res := stallResult{growth: peak - before}
	for a := range answers {
		res.answers = append(res.answers, a)
	}
	after := procStatus(t, server.Pid(), "VmRSS")
	t.Logf("%d clients: resident set %.1f MiB before, %.1f MiB at its peak (+%.1f MiB), %.1f MiB once they were done",
		clients, mib(before), mib(peak), mib(peak-before), mib(after))
	return res
}

// asked is what askThroughout saw.
type asked struct {
	answered int
	slowest  time.Duration // the longest a request waited for its answer
	err      error         // the first request that failed
}

// askThroughout asks addr for a search every 100ms, each on a new
// connection, until stop is closed or a request fails.
func askThroughout(addr string, stop <-chan struct{}) asked {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var a asked
	for {
		select {
		case <-stop:
			return a
		case <-tick.C:
		}
		took, err := askOnce(addr)
		if err != nil {
			a.err = fmt.Errorf("request %d: %w", a.answered+1, err)
			return a
		}
		a.slowest = max(a.slowest, took)
		a.answered++
	}
}

// askOnce connects to addr, asks for "search morpheus" and checks the
// answer, within 10 seconds; it returns how long that took.
func askOnce(addr string) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	conn, err := (&app.Client{}).Dial(ctx, addr)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	req, err := app.NewRequest("search", "morpheus")
	if err != nil {
		return 0, err
	}
	resp, err := conn.Do(ctx, req)
	if err != nil {
		return 0, err
	}
	if result, _, err := app.Result(resp); err != nil || result != morpheusAnswer {
		return 0, fmt.Errorf("answered %q (%v)", result, err)
	}
	return time.Since(start), nil
}

// procStatus returns a size from /proc/PID/status, in bytes: VmRSS, the
// resident set now, or VmHWM, its peak.
func procStatus(t *testing.T, pid int, key string) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key+":"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB"))
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", key, pid)
	return 0
}

func mib(n int) float64 { return float64(n) / (1 << 20) }
