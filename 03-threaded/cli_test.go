package threaded_test

import (
	"io"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	threaded "example.com/sockets/03-threaded"
	"example.com/sockets/03-threaded/internal/testutil"
)

// These tests build cmd/threaded-server and cmd/threaded-client and run
// them as real processes, the way a learner does in two terminals.

func startServer(t *testing.T, args ...string) (*testutil.Process, string) {
	t.Helper()
	bin := testutil.Build(t, "./cmd/threaded-server")
	p := testutil.Start(t, exec.Command(bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...))
	addr := p.WaitOutput(`listening on (\S+)\n`)[1]
	return p, addr
}

func TestCommandsTalkAndStopOnCtrlC(t *testing.T) {
	server, addr := startServer(t)
	client := testutil.Build(t, "./cmd/threaded-client")
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"-m flags", []string{"-m", "hello", "-m", "how are you"}, "", "OK...hello\nOK...how are you\n"},
		{"a pipe", nil, "hello\nhow are you\n", "OK...hello\nOK...how are you\n"},
		{"empty input", nil, "", ""},
		{"-m wins over stdin", []string{"-m", "héllo 🐶"}, "ignored\n", "OK...héllo 🐶\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(client, append([]string{"-addr", addr}, tt.args...)...)
			cmd.Stdin = strings.NewReader(tt.stdin)
			p := testutil.Run(t, cmd)
			assert.Equal(t, 0, p.Wait())
			assert.Equal(t, threaded.Welcome+tt.want, p.Stdout())
			assert.Empty(t, p.Stderr())
		})
	}

	// Ctrl-C with a client connected: it is told goodbye, the server
	// says so, and exits 0.
	cmd := exec.Command(client, "-addr", addr)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	waiting := testutil.Start(t, cmd)
	waiting.WaitOutput("Welcome")
	server.WaitOutput(`(?s)(connected with .*){5}`)
	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.Regexp(t, `: server shutting down; disconnected after 0 lines\nserver stopped\n$`, server.Stdout())
	assert.Empty(t, server.Stderr())

	assert.Equal(t, 1, waiting.Wait())
	assert.Equal(t, threaded.Welcome+threaded.Goodbye, waiting.Stdout())
	assert.Equal(t, "threaded-client: "+addr+": the server is shutting down\n", waiting.Stderr())
}

func TestClientSeesLongLineError(t *testing.T) {
	_, addr := startServer(t, "-max-line", "8")
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/threaded-client"), "-addr", addr, "-m", "short", "-m", "far too long"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, threaded.Welcome+"OK...short\nerror: line longer than 8 bytes\n", client.Stdout())
	assert.Equal(t, "threaded-client: "+addr+": unexpected reply \"error: line longer than 8 bytes\" to line 2\n", client.Stderr())
}

// The hint after "connection refused" is printed as refusedHint makes it
// (see cmd/threaded-client/main_test.go for the default address, which no
// test may listen on): with -addr for any other address, and no -addr for
// port 0, which a server chooses.
func TestClientConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	closed := ln.Addr().String()
	require.NoError(t, ln.Close())
	const start = "is the server running? Start it in the chapter's folder with: go run ./cmd/threaded-server"
	tests := []struct {
		name, addr, wantHint string
	}{
		{"another port", closed, start + " -addr " + closed},
		{"port 0", "127.0.0.1:0", start + "; port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/threaded-client"), "-addr", tt.addr, "-m", "hello"))
			assert.Equal(t, 1, client.Wait())
			assert.Empty(t, client.Stdout())
			assert.Equal(t,
				"threaded-client: dial tcp "+tt.addr+": connect: connection refused\n"+tt.wantHint+"\n",
				client.Stderr())
		})
	}
	t.Run("IPv6", func(t *testing.T) {
		ln := testutil.ListenIPv6(t)
		closed := ln.Addr().String()
		require.NoError(t, ln.Close())
		client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/threaded-client"), "-addr", closed, "-m", "hello"))
		assert.Equal(t, 1, client.Wait())
		assert.Equal(t,
			"threaded-client: dial tcp "+closed+": connect: connection refused\n"+start+" -addr '"+closed+"'\n",
			client.Stderr())
	})
}

func TestServerAddressInUse(t *testing.T) {
	taken := testutil.Listen(t).Addr().String()
	server := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/threaded-server"), "-addr", taken))
	assert.Equal(t, 1, server.Wait())
	assert.Equal(t,
		"threaded-server: listen tcp "+taken+": bind: address already in use\n"+
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
		{"threaded-server", []string{"-h"}, 0, "usage: threaded-server [-addr host:port] [-max-line bytes] [-timeout duration]"},
		{"threaded-server", []string{"-max-line", "0"}, 2, "threaded-server: -max-line and -timeout must be positive"},
		{"threaded-server", []string{"-timeout", "0s"}, 2, "threaded-server: -max-line and -timeout must be positive"},
		{"threaded-server", []string{"8888"}, 2, `threaded-server: unexpected argument "8888"`},
		{"threaded-client", []string{"-h"}, 0, "usage: threaded-client [-addr host:port] [-timeout duration] [-m line]..."},
		{"threaded-client", []string{"-m", "two\nlines"}, 2, `invalid value "two\nlines" for flag -m: a line cannot contain a line break`},
		{"threaded-client", []string{"hello"}, 2, `threaded-client: unexpected argument "hello" (to send it, use -m)`},
		{"threaded-client", []string{"-timeout", "-1s"}, 2, "threaded-client: -timeout must be positive"},
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
	// queues it) and sends, but no welcome ever comes.
	addr := testutil.Listen(t).Addr().String()
	client := testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/threaded-client"), "-addr", addr, "-timeout", "100ms", "-m", "hello"))
	assert.Equal(t, 1, client.Wait())
	assert.Equal(t, "threaded-client: read from "+addr+": no reply within 100ms: i/o timeout\n", client.Stderr())
}

func TestClientCtrlC(t *testing.T) {
	_, addr := startServer(t)
	cmd := exec.Command(testutil.Build(t, "./cmd/threaded-client"), "-addr", addr)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	defer stdin.Close()
	client := testutil.Start(t, cmd)
	_, err = io.WriteString(stdin, "hello\n")
	require.NoError(t, err)
	client.WaitOutput("OK...hello\n")
	client.Interrupt()
	assert.Equal(t, 130, client.Wait())
	assert.Empty(t, client.Stderr())
}
