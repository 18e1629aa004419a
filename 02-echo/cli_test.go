package echo_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"example.com/sockets/02-echo/internal/testutil"
)

// These tests build cmd/echo-server and cmd/echo-client and run them as
// real processes, the way a learner does in two terminals.

func startServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/echo-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	addr := p.WaitOutput(`listening on (\S+)\n`)[1]
	return p, addr
}

// TestCommandsEchoAndStopOnCtrlC runs four clients, one after the other,
// against one server process: unlike the tutorial's, which exits after its
// first client, the server goes back to Accept until Ctrl-C stops it.
func TestCommandsEchoAndStopOnCtrlC(t *testing.T) {
	server, addr := startServer(t)
	client := testutil.Build(t, "./cmd/echo-client")
	tests := []struct {
		args []string
		want string
	}{
		{nil, `Received "Hello, world"` + "\n"},
		{[]string{"héllo", "🐶"}, `Received "héllo 🐶"` + "\n"},
		{[]string{"tab\there"}, `Received "tab\there"` + "\n"},
		{[]string{""}, `Received ""` + "\n"},
	}
	for _, tt := range tests {
		p := testutil.Run(t, exec.Command(client, append([]string{"-addr", addr}, tt.args...)...))
		assert.Equal(t, 0, p.Wait())
		assert.Equal(t, tt.want, p.Stdout())
		assert.Empty(t, p.Stderr())
	}
	server.WaitOutput(`(?s)(echoed \d+ bytes to \S+\n.*){4}`)
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped\n"), "stdout:\n%s", server.Stdout())
	assert.Empty(t, server.Stderr())
}

func TestClientConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()

	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/echo-client"), "-addr", addr))
	assert.Equal(t, 1, client.Wait())
	assert.Empty(t, client.Stdout())
	assert.Equal(t,
		"echo-client: dial tcp "+addr+": connect: connection refused\n"+
			"is the server running? Start it in the chapter's folder with: go run ./cmd/echo-server -addr "+addr+"\n",
		client.Stderr())
}

func TestClientPortZero(t *testing.T) {
	// Port 0 lets a server take any free port; a client cannot connect
	// to it, and the hint must not suggest starting a server there.
	if runtime.GOOS != "linux" {
		t.Skip("checked on Linux, where a connection to port 0 is refused")
	}
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/echo-client"), "-addr", "127.0.0.1:0"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t,
		"echo-client: dial tcp 127.0.0.1:0: connect: connection refused\n"+
			"is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed\n",
		client.Stderr())
}

func TestServerAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/echo-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Equal(t,
		"echo-server: listen tcp "+taken+": bind: address already in use\n"+
			"is another server already running? Stop it, or pick another port with -addr\n",
		server.Stderr())
}

func TestFlags(t *testing.T) {
	tests := []struct {
		cmd      string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"echo-server", []string{"-h"}, 0, "usage: echo-server [-addr host:port] [-buffer bytes] [-timeout duration]"},
		{"echo-server", []string{"-buffer", "0"}, 2, "echo-server: -buffer and -timeout must be positive"},
		{"echo-server", []string{"-timeout", "-1s"}, 2, "echo-server: -buffer and -timeout must be positive"},
		{"echo-server", []string{"65432"}, 2, `echo-server: unexpected argument "65432"`},
		{"echo-client", []string{"-h"}, 0, "usage: echo-client [-addr host:port] [-timeout duration] [message ...]"},
		{"echo-client", []string{"-addr"}, 2, "flag needs an argument: -addr"},
	}
	for _, tt := range tests {
		t.Run(tt.cmd+" "+strings.Join(tt.args, " "), func(t *testing.T) {
			p := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/"+tt.cmd), tt.args...))
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Contains(t, p.Stderr(), tt.wantErr)
			assert.Empty(t, p.Stdout())
		})
	}
}

func TestClientTimeout(t *testing.T) {
	// A listener that never accepts: the client connects (the kernel
	// queues it) and sends, but no echo ever comes.
	addr := testutil.Listen(t).Addr().String()
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/echo-client"), "-addr", addr, "-timeout", "100ms"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, "echo-client: read from "+addr+": context deadline exceeded\n", client.Stderr())
}
