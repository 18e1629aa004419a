package multiconn_test

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// These tests build cmd/multiconn-server and run it as a real process.
// (client_cli_test.go does the same for the client.)

// serverCmd starts multiconn-server on a free port with args and returns
// the process and the address it listens on.
func serverCmd(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/multiconn-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	return p, p.WaitOutput(`listening on (\S+)\n`)[1]
}

func TestServerCommandEchoesAndStopsOnCtrlC(t *testing.T) {
	server, addr := serverCmd(t)
	c := testutil.Dial(t, addr)
	msg := []byte("Message 1 from client.Message 2 from client.")
	assert.Equal(t, string(msg), string(echo(t, c, msg)))
	local := c.LocalAddr().String()
	server.WaitOutput("closing connection to " + local)
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.Equal(t,
		"listening on "+addr+"\n"+
			"accepted connection from "+local+"\n"+
			"echoing \"Message 1 from client.Message 2 from client.\" to "+local+"\n"+
			"closing connection to "+local+": 44 bytes in, 44 out\n"+
			"server stopped: 1 connection served, 0 refused, 44 bytes echoed\n",
		server.Stdout())
	assert.Empty(t, server.Stderr())
}

// Ctrl-C with clients connected: the server hangs up on each, logs it, and
// only then prints its summary, the last line, with no closing line lost.
func TestServerCommandSummaryComesLast(t *testing.T) {
	const clients = 200
	server, addr := serverCmd(t, "-q")
	locals := make(map[string]bool, clients)
	for range clients {
		c := testutil.Dial(t, addr)
		// A round trip: once it is back, the server is serving c.
		assert.Equal(t, "hi", string(echoOnce(t, c, "hi")))
		locals[c.LocalAddr().String()] = true
	}
	server.Interrupt()
	require.Equal(t, 0, server.Wait())

	lines := strings.Split(strings.TrimSuffix(server.Stdout(), "\n"), "\n")
	last := lines[len(lines)-1]
	assert.Equal(t, fmt.Sprintf("server stopped: %d connections served, 0 refused, %d bytes echoed", clients, 2*clients), last,
		"the summary is the last line")
	closed := make(map[string]int)
	for _, line := range lines[:len(lines)-1] {
		if a, ok := strings.CutPrefix(line, "closing connection to "); ok {
			a, why, _ := strings.Cut(a, ": ")
			assert.Equal(t, "server closing", why, line)
			closed[a]++
		}
	}
	assert.Equal(t, clients, len(closed), "clients with a closing line before the summary")
	for a, n := range closed {
		assert.True(t, locals[a], "closing line for %s, which is not one of the clients", a)
		assert.Equal(t, 1, n, "closing lines for %s", a)
	}
	assert.Empty(t, server.Stderr())
}

// The tutorial's form: multiconn-server HOST PORT.
func TestServerCommandHostPort(t *testing.T) {
	ln := testutil.Listen(t)
	host, port, err := net.SplitHostPort(ln.Addr().String())
	require.NoError(t, err)
	require.NoError(t, ln.Close())
	server := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/multiconn-server"), "-q", host, port))
	server.WaitOutput("listening on " + net.JoinHostPort(host, port) + "\n")
	c := testutil.Dial(t, net.JoinHostPort(host, port))
	assert.Equal(t, "hello", string(echo(t, c, []byte("hello"))))
	server.WaitOutput("closing connection")
	assert.NotContains(t, server.Stdout(), "echoing", "-q drops the line per echo")
}

func TestServerCommandMaxConns(t *testing.T) {
	server, addr := serverCmd(t, "-q", "-max-conns", "1")
	first := testutil.Dial(t, addr)
	assert.Equal(t, "hi", string(echoOnce(t, first, "hi")))
	second := testutil.Dial(t, addr)
	told, err := io.ReadAll(second)
	require.NoError(t, err)
	assert.Equal(t, multiconn.BusyMessage, string(told))
	server.WaitOutput("refused connection from " + second.LocalAddr().String() + ": 1 connection open\n")
}

// echoOnce writes s on c and reads as many bytes back.
func echoOnce(t *testing.T, c *net.TCPConn, s string) []byte {
	t.Helper()
	_, err := io.WriteString(c, s)
	require.NoError(t, err)
	got := make([]byte, len(s))
	_, err = io.ReadFull(c, got)
	require.NoError(t, err)
	return got
}

func TestServerCommandAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/multiconn-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Equal(t,
		"multiconn-server: listen tcp "+taken+": bind: address already in use\n"+
			"is another server already running? Stop it, or pick another port with -addr\n",
		server.Stderr())
}

func TestServerCommandFlags(t *testing.T) {
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"-h"}, 0, "usage: multiconn-server [-q] [-idle duration] [-write-timeout duration] [-max-conns n] [-addr host:port | HOST PORT]"},
		{[]string{"-idle", "0s"}, 2, "multiconn-server: -idle and -write-timeout must be positive, -max-conns zero or more"},
		{[]string{"-max-conns", "-1"}, 2, "multiconn-server: -idle and -write-timeout must be positive, -max-conns zero or more"},
		{[]string{"127.0.0.1"}, 2, `multiconn-server: want HOST PORT, or no arguments; got ["127.0.0.1"]`},
		{[]string{"-idle"}, 2, "flag needs an argument: -idle"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			p := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/multiconn-server"), tt.args...))
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Contains(t, p.Stderr(), tt.wantErr)
			assert.Empty(t, p.Stdout())
		})
	}
}
