package basic_test

import (
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"example.com/sockets/01-basic-server/internal/testutil"
)

// These tests build cmd/basic-server and cmd/basic-client and run them as
// real processes, the way a learner does in two terminals.

// startServer runs basic-server on a free port and returns it with the
// address it printed.
func startServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/basic-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	addr := p.WaitOutput(`listening on (\S+)\n`)[1]
	return p, addr
}

func TestCommandsGreetAndStopOnCtrlC(t *testing.T) {
	server, addr := startServer(t)
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/basic-client"), "-addr", addr))
	assert.Equal(t, 0, client.Wait())
	assert.Equal(t, "Thank you for connecting\n", client.Stdout())
	assert.Empty(t, client.Stderr())

	server.WaitOutput(`connection from 127\.0\.0\.1:\d+\n`)
	server.Interrupt() // Ctrl-C
	assert.Equal(t, 0, server.Wait(), "Ctrl-C is a normal way to stop the server")
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped\n"), "stdout:\n%s", server.Stdout())
	assert.Empty(t, server.Stderr())
}

func TestClientConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()

	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/basic-client"), "-addr", addr))
	assert.Equal(t, 1, client.Wait())
	assert.Empty(t, client.Stdout())
	assert.Equal(t,
		"basic-client: dial tcp "+addr+": connect: connection refused\n"+
			"is the server running? Start it in the chapter's folder with: go run ./cmd/basic-server -addr "+addr+"\n",
		client.Stderr())
}

func TestClientPortZero(t *testing.T) {
	// Port 0 lets a server take any free port; a client cannot connect
	// to it, and the hint must not suggest starting a server there.
	if runtime.GOOS != "linux" {
		t.Skip("checked on Linux, where a connection to port 0 is refused")
	}
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/basic-client"), "-addr", "127.0.0.1:0"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t,
		"basic-client: dial tcp 127.0.0.1:0: connect: connection refused\n"+
			"is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed\n",
		client.Stderr())
}

func TestServerAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/basic-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Equal(t,
		"basic-server: listen tcp "+taken+": bind: address already in use\n"+
			"is another server already running? Stop it, or pick another port with -addr\n",
		server.Stderr())
}

func TestFlags(t *testing.T) {
	tests := []struct {
		cmd      string
		args     []string
		wantCode int
		wantErr  string // a line stderr must contain
	}{
		{"basic-server", []string{"-h"}, 0, "usage: basic-server [-addr host:port]"},
		{"basic-server", []string{"-port", "5000"}, 2, "flag provided but not defined: -port"},
		{"basic-server", []string{"5000"}, 2, `basic-server: unexpected argument "5000"`},
		{"basic-client", []string{"-h"}, 0, "usage: basic-client [-addr host:port] [-timeout duration]"},
		{"basic-client", []string{"-timeout", "soon"}, 2, `invalid value "soon" for flag -timeout`},
		{"basic-client", []string{"localhost"}, 2, `basic-client: unexpected argument "localhost"`},
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
	// A listener that never accepts: the kernel completes the handshake, so
	// the client connects, then waits for a greeting that never comes.
	addr := testutil.Listen(t).Addr().String()
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/basic-client"), "-addr", addr, "-timeout", "100ms"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, "basic-client: read from "+addr+": context deadline exceeded\n", client.Stderr())
}
