package chat_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/internal/testutil"
)

// TestMassDeparture has 5,000 members leave at once: they are the
// connections of another process (this test binary, run again), which
// exits. Every departure is news for everybody still in the room: up to
// 12.5 million lines to hand out, most of them to members that are gone.
// Throughout, the server's process must grow by less than 64 MiB (Go heap
// objects, and RSS where /proc tells it), and a new client, from a third
// process, must be answered, from its dial to its OK, within 100 ms.
//
// It opens 10,000 descriptors and holds the machine to a time, so it runs
// only when asked, by hand, on a quiet machine:
//
//	SOCKETS_HEAVY=1 go test -run TestMassDeparture -v
func TestMassDeparture(t *testing.T) {
	if os.Getenv("SOCKETS_HEAVY") == "" {
		t.Skip("opens 10,000 descriptors: run with SOCKETS_HEAVY=1")
	}
	const members = 5000
	forEachServer(t, func(t *testing.T, sv serverKind) {
		room := &roomLog{want: members, arrived: make(map[string]bool),
			joined: make(chan struct{}), left: make(chan struct{})}
		addr := testutil.StartServer(t, sv.new(config{log: log.New(room, "", 0)}), chat.ErrServerClosed).Addr
		crowd, leave := startHelper(t, "members", addr, members)
		testutil.Receive(t, room.joined, "every member to join")

		runtime.GC()
		heap0, rss0 := memory()
		var heap, rss uint64
		sampled := make(chan struct{})
		stop := make(chan struct{})
		go func() {
			defer close(sampled)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				h, r := memory()
				heap, rss = max(heap, h), max(rss, r)
				select {
				case <-tick.C:
				case <-stop:
					return
				}
			}
		}()
		prober, stopProbing := startHelper(t, "probe", addr, 0)
		prober.WaitOutput("probing\n")

		start := time.Now()
		require.NoError(t, leave.Close()) // the members' process exits
		testutil.Receive(t, room.left, "every member to leave")
		took := time.Since(start)
		require.NoError(t, stopProbing.Close())
		got := prober.WaitOutput(`answered (\d+), the slowest in (\S+)\n`)
		close(stop)
		<-sampled
		assert.Equal(t, 0, crowd.Wait())
		assert.Equal(t, 0, prober.Wait())

		grew := func(peak, base uint64) float64 { return (float64(peak) - float64(base)) / (1 << 20) }
		slowest, err := time.ParseDuration(got[2])
		require.NoError(t, err)
		t.Logf("%d members left in %v: heap +%.1f MiB, RSS +%.1f MiB; %s new clients answered, the slowest in %v",
			members, took.Round(time.Millisecond), grew(heap, heap0), grew(rss, rss0), got[1], slowest)
		assert.Less(t, grew(heap, heap0), 64.0, "heap growth, MiB")
		if rss0 > 0 {
			assert.Less(t, grew(rss, rss0), 64.0, "RSS growth, MiB")
		}
		assert.Less(t, slowest, 100*time.Millisecond, "the slowest answer to a new client")
	})
}

// startHelper runs this test binary again as a helper process (see
// TestHelperProcess) for the room at addr. Closing stop ends its work.
func startHelper(t *testing.T, role, addr string, members int) (helper *testutil.Process, stop io.Closer) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), "CHAT_HELPER="+role, "CHAT_HELPER_ROOM="+addr, "CHAT_HELPER_MEMBERS="+strconv.Itoa(members))
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	t.Cleanup(func() { stdin.Close() })
	return testutil.Start(t, cmd), stdin
}

// TestHelperProcess is not a test: TestMassDeparture runs this binary again
// with it. As "members", it joins the room with many connections and holds
// them until its input ends; then it exits, and the kernel closes them all
// at once. As "probe", it joins the room again and again, each time with a
// new connection, until its input ends, and says how long the slowest took
// to hear its OK.
func TestHelperProcess(t *testing.T) {
	addr := os.Getenv("CHAT_HELPER_ROOM")
	switch os.Getenv("CHAT_HELPER") {
	case "members":
		n, err := strconv.Atoi(os.Getenv("CHAT_HELPER_MEMBERS"))
		require.NoError(t, err)
		var conns []net.Conn
		for range n {
			c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
			require.NoError(t, err)
			conns = append(conns, c)
		}
		io.Copy(io.Discard, os.Stdin)
		runtime.KeepAlive(conns)
		os.Exit(0) // without closing anything: the kernel does
	case "probe":
		done := make(chan struct{})
		go func() {
			defer close(done)
			io.Copy(io.Discard, os.Stdin)
		}()
		var slowest time.Duration
		for i := 0; ; i++ {
			took, err := probe(addr, fmt.Sprint("ping ", i))
			require.NoError(t, err)
			slowest = max(slowest, took)
			if i == 0 {
				fmt.Println("probing")
			}
			select {
			case <-done:
				fmt.Printf("answered %d, the slowest in %v\n", i+1, slowest)
				return
			default:
			}
		}
	default:
		t.Skip("TestMassDeparture runs it")
	}
}

// probe joins the room at addr, says line, and returns how long it took
// to hear the OK.
func probe(addr, line string) (time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.SetDeadline(start.Add(testutil.Timeout)); err != nil {
		return 0, err
	}
	if _, err := fmt.Fprintf(c, "%s\n", line); err != nil {
		return 0, err
	}
	r := bufio.NewReader(c)
	for {
		got, err := r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		if got == "OK ... "+line+"\n" {
			return time.Since(start), nil
		}
	}
}

// memory returns the bytes of Go heap objects (live, or garbage not yet
// swept) and the resident set size of the process (0 where /proc does not
// tell it).
func memory() (heap, rss uint64) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	heap = s[0].Value.Uint64()
	if b, err := os.ReadFile("/proc/self/statm"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 1 {
			pages, _ := strconv.ParseUint(f[1], 10, 64)
			rss = pages * uint64(os.Getpagesize())
		}
	}
	return heap, rss
}

// roomLog is a server's log that says when want clients have joined, and
// when those clients have all left.
type roomLog struct {
	want   int
	joined chan struct{}
	left   chan struct{}

	mu      sync.Mutex
	arrived map[string]bool // the first want clients
	out     int
}

func (l *roomLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if a, ok := strings.CutPrefix(string(p), "client "); ok {
		addr, event, _ := strings.Cut(a, " ")
		switch {
		case strings.HasPrefix(event, "connected") && len(l.arrived) < l.want:
			if l.arrived[addr] = true; len(l.arrived) == l.want {
				close(l.joined)
			}
		case strings.HasPrefix(event, "is offline") && l.arrived[addr]:
			if l.out++; l.out == l.want {
				close(l.left)
			}
		}
	}
	return len(p), nil
}
