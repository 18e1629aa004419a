package multiconn_test

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// Twenty clients each send 3 MB and read none of the echo, which the
// server's kernel holds for them; then they go quiet, and the server drops
// them. What does the kernel still hold once they are dropped? It reads
// the server's sockets from /proc/net/tcp. Opt-in, as it moves 120 MB
// through the loopback interface and reports a figure:
//
//	SOCKETS_HEAVY=1 go test -run TestDroppedClientsFreeKernelMemory -v
//
// It fails if more than 1 MB is still queued: a bound for a run by hand,
// not a measurement.
func TestDroppedClientsFreeKernelMemory(t *testing.T) {
	if os.Getenv("SOCKETS_HEAVY") == "" {
		t.Skip("opt-in: set SOCKETS_HEAVY=1 to run it")
	}
	const clients, perClient = 20, 3_000_000

	logs := logLines{make(chan string, 1000)}
	srv := &multiconn.Server{Log: log.New(logs, "", 0), Quiet: true, IdleTimeout: 500 * time.Millisecond}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	_, port, _ := net.SplitHostPort(r.Addr)

	msg := strings.Repeat("x", perClient)
	conns := make([]*net.TCPConn, clients)
	var wg sync.WaitGroup
	for i := range conns {
		conns[i] = testutil.Dial(t, r.Addr)
		wg.Go(func() {
			if _, err := io.WriteString(conns[i], msg); err != nil {
				t.Errorf("client %d: %v", i, err)
			}
		})
	}
	wg.Wait()

	for range clients {
		logs.next(t, "closing connection to ") // "...: idle for 500ms (...)"
	}
	// Each line comes just before its Close: wait for the last Close.
	testutil.WaitFor(t, "the server to close every connection", func() bool {
		return serverSockets(t, port).states["ESTABLISHED"] == 0
	})
	held := serverSockets(t, port)
	t.Logf("%d clients that read nothing, once dropped: %s", clients, held)
	assert.Less(t, held.queued, 1<<20, "bytes still queued in the server's sockets")

	// Each client, when it reads again, gets what reached it, then the
	// reset.
	for i, c := range conns {
		require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
		_, err := io.Copy(io.Discard, c)
		assert.ErrorIs(t, err, syscall.ECONNRESET, "client %d", i)
	}
}

// sockets sums up the server's connected sockets.
type sockets struct {
	count  int
	states map[string]int
	queued int // bytes in their send queues: sent and not yet acknowledged, or not yet sent
}

func (s sockets) String() string {
	return fmt.Sprintf("%d server sockets %v, %.1f MB queued to send", s.count, s.states, float64(s.queued)/1e6)
}

// serverSockets reads /proc/net/tcp and /proc/net/tcp6 for the sockets
// whose local port is port, other than the listener.
func serverSockets(t *testing.T, port string) sockets {
	t.Helper()
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	local := fmt.Sprintf(":%04X", p)
	states := map[string]string{"01": "ESTABLISHED", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT", "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0B": "CLOSING"}
	s := sockets{states: map[string]int{}}
	for _, file := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(file)
		if err != nil {
			continue // no IPv6
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx_queue:rx_queue ...
			fields := strings.Fields(sc.Text())
			if len(fields) < 5 || !strings.HasSuffix(fields[1], local) || fields[3] == "0A" { // 0A: LISTEN
				continue
			}
			tx, _, _ := strings.Cut(fields[4], ":")
			n, err := strconv.ParseInt(tx, 16, 64)
			require.NoError(t, err)
			s.count++
			s.states[states[fields[3]]]++
			s.queued += int(n)
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	return s
}
