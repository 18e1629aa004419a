package multiconn_test

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/fake"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// These tests build cmd/multiconn-client and run it as a real process, the
// way a learner does, against a server started in the test.

// runClientCommand runs multiconn-client with args until it exits.
func runClientCommand(t *testing.T, args ...string) *testutil.Process {
	t.Helper()
	return testutil.Run(t, exec.Command(testutil.Build(t, "./cmd/multiconn-client"), args...))
}

// The tutorial's way: multiconn-client HOST PORT NUM_CONNECTIONS.
func TestClientCommandTutorialForm(t *testing.T) {
	r := testutil.StartServer(t, &multiconn.Server{}, multiconn.ErrServerClosed)
	host, port, err := net.SplitHostPort(r.Addr)
	require.NoError(t, err)

	p := runClientCommand(t, host, port, "2")
	assert.Equal(t, 0, p.Wait())
	assert.Empty(t, p.Stderr())
	out := p.Stdout()
	for _, line := range []string{
		"starting connection 1 to " + r.Addr,
		"starting connection 2 to " + r.Addr,
		`sending "Message 1 from client." to connection 1`,
		`sending "Message 2 from client." to connection 1`,
		`sending "Message 1 from client." to connection 2`,
		`sending "Message 2 from client." to connection 2`,
		"closing connection 1",
		"closing connection 2",
	} {
		assert.Contains(t, "\n"+out, "\n"+line+"\n", "stdout:\n%s", out)
	}
	// The echo may come back in one piece or in several.
	assert.Regexp(t, `(?m)^received "Message 1 from client\.[^"]*" from connection 1$`, out)
	assert.Regexp(t, `(?m)^received "Message 1 from client\.[^"]*" from connection 2$`, out)
	assert.True(t, strings.HasSuffix(out, "\n2 connections, 88 bytes sent, 88 received: all echoed\n"), "stdout:\n%s", out)
}

func TestClientCommandSummaries(t *testing.T) {
	r := testutil.StartServer(t, &multiconn.Server{}, multiconn.ErrServerClosed)
	tests := []struct {
		name string
		args []string
		want string // a regular expression for the whole of stdout
	}{
		{"-q", []string{"-q", "-addr", r.Addr, "2"}, `^2 connections, 88 bytes sent, 88 received: all echoed\n$`},
		{"one connection", []string{"-q", "-addr", r.Addr, "1"}, `^1 connection, 44 bytes sent, 44 received: all echoed\n$`},
		{"one byte", []string{"-q", "-m", "x", "-addr", r.Addr, "1"}, `^1 connection, 1 byte sent, 1 received: all echoed\n$`},
		{"-m", []string{"-q", "-m", "hello", "-m", "world", "-addr", r.Addr, "3"}, `^3 connections, 30 bytes sent, 30 received: all echoed\n$`},
		{
			"ping-pong load",
			[]string{"-q", "-addr", r.Addr, "-repeat", "50", "-size", "32", "4"},
			`^4 conns, 32-byte messages: 200 msgs in \d+\.\ds, \d+ msgs/s, \d+\.\d MB/s, latency p50 \S+ p90 \S+ p99 \S+\n$`,
		},
		{
			"stream load",
			[]string{"-q", "-addr", r.Addr, "-stream", "-duration", "100ms", "1"},
			`^1 conn, stream: \d+(\.\d)? [kMG]?B in \d+\.\ds, \d+\.\d MB/s\n$`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := runClientCommand(t, tt.args...)
			assert.Equal(t, 0, p.Wait())
			assert.Regexp(t, tt.want, p.Stdout())
			assert.Empty(t, p.Stderr())
		})
	}
}

// Without -q, a load test may print progress lines on stderr, one about
// every second, and only those.
func TestClientCommandLoadWithProgress(t *testing.T) {
	r := testutil.StartServer(t, &multiconn.Server{}, multiconn.ErrServerClosed)
	p := runClientCommand(t, "-addr", r.Addr, "-repeat", "50", "-size", "32", "4")
	assert.Equal(t, 0, p.Wait())
	assert.Regexp(t, `^4 conns, 32-byte messages: 200 msgs in .* msgs/s, `, p.Stdout())
	assert.Regexp(t, `^(\d+s: \d+ msgs, \d+ msgs/s\n)*$`, p.Stderr())
}

func TestClientCommandConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	refused := func(n int) string {
		return fmt.Sprintf("multiconn-client: connection %d: dial tcp %s: connect: connection refused\n", n, addr)
	}
	hint := "is the server running? Start it in the chapter's folder with: go run ./cmd/multiconn-server -addr " + addr + "\n"

	t.Run("echo check", func(t *testing.T) {
		p := runClientCommand(t, host, port, "2")
		assert.Equal(t, 1, p.Wait())
		// The per-connection lines say why each failed, as it happens,
		// and that is the only place they say it.
		for _, n := range []string{"1", "2"} {
			assert.Contains(t, p.Stdout(), "starting connection "+n+" to "+addr+"\n")
			failed := "connection " + n + ": dial tcp " + addr + ": connect: connection refused\n"
			assert.Equal(t, 1, strings.Count(p.Stdout()+p.Stderr(), failed), "stdout:\n%s\nstderr:\n%s", p.Stdout(), p.Stderr())
		}
		assert.Equal(t, "multiconn-client: 2 of 2 connections failed\n"+hint, p.Stderr())
	})
	t.Run("-q", func(t *testing.T) {
		p := runClientCommand(t, "-q", host, port, "2")
		assert.Equal(t, 1, p.Wait())
		assert.Equal(t, refused(1)+refused(2)+"multiconn-client: 2 of 2 connections failed\n"+hint, p.Stderr())
		assert.Empty(t, p.Stdout())
	})
	t.Run("many connections", func(t *testing.T) {
		p := runClientCommand(t, "-q", "-addr", addr, "15")
		assert.Equal(t, 1, p.Wait())
		var want strings.Builder
		for n := 1; n <= 10; n++ {
			want.WriteString(refused(n))
		}
		want.WriteString("multiconn-client: ... and 5 more\nmulticonn-client: 15 of 15 connections failed\n" + hint)
		assert.Equal(t, want.String(), p.Stderr())
		assert.Empty(t, p.Stdout())
	})
	t.Run("load", func(t *testing.T) {
		p := runClientCommand(t, "-addr", addr, "-repeat", "10", "3")
		assert.Equal(t, 1, p.Wait())
		assert.Regexp(t, `^multiconn-client: load: connection [123]: dial tcp `+regexp.QuoteMeta(addr)+`: connect: connection refused\n`+regexp.QuoteMeta(hint)+`$`, p.Stderr())
		assert.Empty(t, p.Stdout())
	})
}

// The hint is a command to paste, even for an address a shell would
// mangle, and no command at all for port 0, where no server can be.
func TestClientCommandHint(t *testing.T) {
	t.Run("IPv6", func(t *testing.T) {
		ln := testutil.ListenIPv6(t)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		p := runClientCommand(t, "-q", "-addr", addr, "1")
		assert.Equal(t, 1, p.Wait())
		assert.True(t, strings.HasSuffix(p.Stderr(), "\nmulticonn-client: 1 of 1 connection failed\n"+
			"is the server running? Start it in the chapter's folder with: go run ./cmd/multiconn-server -addr '"+addr+"'\n"), p.Stderr())
	})
	t.Run("port 0", func(t *testing.T) {
		p := runClientCommand(t, "-q", "-addr", "127.0.0.1:0", "1")
		assert.Equal(t, 1, p.Wait())
		assert.Equal(t, "multiconn-client: connection 1: dial tcp 127.0.0.1:0: connect: connection refused\n"+
			"multiconn-client: 1 of 1 connection failed\n"+
			"is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed\n",
			p.Stderr())
	})
}

// A server that echoes part of what it gets and hangs up: every connection
// fails, and the client says how.
func TestClientCommandServerHangsUpEarly(t *testing.T) {
	addr := fake.Server(t, func(c net.Conn) {
		if got, ok := readMessages(c); ok {
			c.Write(got[:10])
		}
	})
	p := runClientCommand(t, "-q", "-addr", addr, "2")
	assert.Equal(t, 1, p.Wait())
	assert.Equal(t,
		"multiconn-client: connection 1: server closed the connection after echoing 10 of 44 bytes\n"+
			"multiconn-client: connection 2: server closed the connection after echoing 10 of 44 bytes\n"+
			"multiconn-client: 2 of 2 connections failed\n",
		p.Stderr())
	assert.Empty(t, p.Stdout())
}

func TestClientCommandFlags(t *testing.T) {
	const wantArgs = "multiconn-client: want HOST PORT NUM_CONNECTIONS, or NUM_CONNECTIONS with -addr"
	tests := []struct {
		args     []string
		wantCode int
		wantErr  string
	}{
		{[]string{"-h"}, 0, "usage: multiconn-client [-m message]... [-timeout duration] [-q] [-repeat n] [-size bytes] [-duration d] [-stream] [-addr host:port | HOST PORT] NUM_CONNECTIONS\n"},
		{nil, 2, wantArgs},
		{[]string{"127.0.0.1", "65432"}, 2, wantArgs},
		{[]string{"127.0.0.1", "65432", "2", "3"}, 2, wantArgs},
		{[]string{"two"}, 2, `multiconn-client: NUM_CONNECTIONS must be a whole number from 1 to 100000; got "two"`},
		{[]string{"0"}, 2, `multiconn-client: NUM_CONNECTIONS must be a whole number from 1 to 100000; got "0"`},
		{[]string{"100001"}, 2, `multiconn-client: NUM_CONNECTIONS must be a whole number from 1 to 100000; got "100001"`},
		{[]string{"-bogus", "1"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"-m", "", "1"}, 2, `invalid value "" for flag -m: a message cannot be empty`},
		{[]string{"-timeout", "0s", "1"}, 2, "multiconn-client: -timeout must be positive"},
		{[]string{"-size", "32", "1"}, 2, "multiconn-client: -size goes with -repeat, -duration or -stream"},
		{[]string{"-repeat", "5", "-size", "0", "1"}, 2, "multiconn-client: -size must be at least 1 and at most 67108864"},
		{[]string{"-repeat", "5", "-m", "hello", "1"}, 2, "multiconn-client: -m and -timeout are for the echo check"},
		{[]string{"-repeat", "-1", "1"}, 2, "multiconn-client: -repeat and -duration must not be negative"},
		{[]string{"-duration", "0s", "1"}, 2, "multiconn-client: give -repeat or -duration a value above 0"},
		{[]string{"-stream", "1"}, 2, "multiconn-client: -stream needs a -duration"},
		{[]string{"-stream", "-duration", "1s", "-repeat", "5", "1"}, 2, "multiconn-client: -repeat counts ping-pong messages, and -stream sends none"},
		{[]string{"-stream", "-duration", "1s", "-size", "5", "1"}, 2, "multiconn-client: -size is for ping-pong messages"},
	}
	for _, tt := range tests {
		name := strings.Join(tt.args, " ")
		if name == "" {
			name = "no arguments"
		}
		t.Run(name, func(t *testing.T) {
			p := runClientCommand(t, tt.args...)
			assert.Equal(t, tt.wantCode, p.Wait())
			assert.Contains(t, p.Stderr(), tt.wantErr)
			if tt.wantCode == 2 {
				assert.Contains(t, p.Stderr(), "usage: multiconn-client ", "a usage error shows the usage")
			}
			assert.Empty(t, p.Stdout())
		})
	}
}

// Ctrl-C stops the client at once, whatever it is waiting for, with the
// shell's code for "ended by SIGINT".
func TestClientCommandCtrlC(t *testing.T) {
	accepted := make(chan struct{}, 2)
	addr := fake.Server(t, func(c net.Conn) {
		accepted <- struct{}{}
		io.Copy(io.Discard, c) // and never answer
	})

	t.Run("echo check", func(t *testing.T) {
		client := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/multiconn-client"), "-addr", addr, "1"))
		client.WaitOutput(`sending "Message 2 from client." to connection 1\n`)
		client.Interrupt()
		assert.Equal(t, 130, client.Wait())
		assert.Empty(t, client.Stderr())
	})
	t.Run("load", func(t *testing.T) {
		client := testutil.Start(t, exec.Command(testutil.Build(t, "./cmd/multiconn-client"), "-addr", addr, "-duration", "1h", "1"))
		testutil.Receive(t, accepted, "the echo check's connection")
		testutil.Receive(t, accepted, "the load's connection")
		client.Interrupt()
		assert.Equal(t, 130, client.Wait())
		assert.Empty(t, client.Stdout())
	})
}
