package chat_test

import (
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/04-select/internal/testutil"
)

// These tests build cmd/chat-server and cmd/chat-client and run them as
// real processes, the way a learner does in two terminals.

func startServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/chat-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	addr := p.WaitOutput(`listening on (\S+)\n`)[1]
	return p, addr
}

func TestCommandsChatAndStopOnCtrlC(t *testing.T) {
	forEachServer(t, func(t *testing.T, sv serverKind) {
		var args []string
		if sv.name == "poll" {
			args = []string{"-poll"}
		}
		server, addr := startServer(t, args...)
		client := testutil.Build(t, "./cmd/chat-client")

		// One client stays in the room, reading its input from a
		// pipe that stays open: it hears the others.
		cmd := exec.Command(client, "-addr", addr)
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		defer stdin.Close()
		stays := testutil.Start(t, cmd)
		_, err = io.WriteString(stdin, "hi\n")
		require.NoError(t, err)
		stays.WaitOutput("OK ... hi\n")

		piped := exec.Command(client, "-addr", addr)
		piped.Stdin = strings.NewReader("hello\nhow are you\n")
		p := testutil.Run(t, piped)
		assert.Equal(t, 0, p.Wait())
		assert.Equal(t, "OK ... hello\nOK ... how are you\n", p.Stdout())
		assert.Empty(t, p.Stderr())
		m := stays.WaitOutput(`<(\S+)> hello\n<\S+> how are you\nClient (\S+) is offline\n`)
		assert.Equal(t, m[1], m[2])

		p = testutil.Run(t, exec.Command(client, "-addr", addr, "-m", "héllo 🐶"))
		assert.Equal(t, 0, p.Wait())
		assert.Equal(t, "OK ... héllo 🐶\n", p.Stdout())

		server.WaitOutput(`(?s)(is offline\n.*){2}`)
		server.Interrupt()
		assert.Equal(t, 0, server.Wait())
		assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped\n"), "stdout:\n%s", server.Stdout())
		assert.Empty(t, server.Stderr())

		// The client still in the room sees the server go.
		assert.Equal(t, 1, stays.Wait())
		assert.Equal(t, "chat-client: "+addr+" closed the connection\n", stays.Stderr())
	})
}

// The hint after "connection refused" is printed as refusedHint makes it
// (see cmd/chat-client/main_test.go for the default address, which no test
// may listen on): with -addr for any other address, and no -addr for port
// 0, which a server chooses.
func TestClientConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	const start = "is the server running? Start it in the chapter's folder with: go run ./cmd/chat-server"
	tests := []struct {
		name, addr, wantHint string
	}{
		{"another port", closed, start + " -addr " + closed},
		{"port 0", "127.0.0.1:0", start + "; port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/chat-client"), "-addr", tt.addr, "-m", "hello"))
			assert.Equal(t, 1, client.Wait())
			assert.Empty(t, client.Stdout())
			assert.Equal(t,
				"chat-client: dial tcp "+tt.addr+": connect: connection refused\n"+tt.wantHint+"\n",
				client.Stderr())
		})
	}
	t.Run("IPv6", func(t *testing.T) {
		ln := testutil.ListenIPv6(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/chat-client"), "-addr", closed, "-m", "hello"))
		assert.Equal(t, 1, client.Wait())
		assert.Equal(t,
			"chat-client: dial tcp "+closed+": connect: connection refused\n"+start+" -addr '"+closed+"'\n",
			client.Stderr())
	})
}

func TestServerAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/chat-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Equal(t,
		"chat-server: listen tcp "+taken+": bind: address already in use\n"+
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
		{"chat-server", []string{"-h"}, 0, "usage: chat-server [-addr host:port] [-poll] [-max-line bytes] [-max-pending bytes] [-max-in-flight bytes] [-timeout duration]"},
		{"chat-server", []string{"-max-pending", "0"}, 2, "chat-server: -max-line, -max-pending, -max-in-flight and -timeout must be positive"},
		{"chat-server", []string{"-max-in-flight", "0"}, 2, "chat-server: -max-line, -max-pending, -max-in-flight and -timeout must be positive"},
		{"chat-server", []string{"-max-line", "-1"}, 2, "chat-server: -max-line, -max-pending, -max-in-flight and -timeout must be positive"},
		{"chat-server", []string{"5000"}, 2, `chat-server: unexpected argument "5000"`},
		{"chat-client", []string{"-h"}, 0, "usage: chat-client [-addr host:port] [-timeout duration] [-m line]..."},
		{"chat-client", []string{"-m", "a\rb"}, 2, `invalid value "a\rb" for flag -m: a line cannot contain a line break`},
		{"chat-client", []string{"hello"}, 2, `chat-client: unexpected argument "hello" (to send it, use -m)`},
		{"chat-client", []string{"-timeout", "0s"}, 2, "chat-client: -timeout must be positive"},
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
	// queues it), sends and leaves, but the server never hangs up.
	addr := testutil.Listen(t).Addr().String()
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/chat-client"), "-addr", addr, "-timeout", "100ms", "-m", "hello"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, "chat-client: read from "+addr+": still open 100ms after we left: i/o timeout\n", client.Stderr())
}
