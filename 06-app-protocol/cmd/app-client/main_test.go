package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hint after "connection refused" must work when followed literally,
// in bash or zsh, from the chapter's folder.
func TestRefusedHint(t *testing.T) {
	const start = "is the server running? Start it in the chapter's folder with: go run ./cmd/app-server"
	const port0 = "is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	tests := []struct {
		addr, want string
	}{
		{"127.0.0.1:65432", start},
		{"127.0.0.1:5000", start + " -addr 127.0.0.1:5000"},
		{"localhost:65432", start + " -addr localhost:65432"},
		{"my-host_1.example:65432", start + " -addr my-host_1.example:65432"},
		{"[::1]:65432", start + " -addr '[::1]:65432'"},
		{":65432", start + " -addr :65432"},
		{"127.0.0.1:0", port0},
		{"[::1]:0", port0},
		{"localhost:00", port0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, refusedHint(tt.addr), "refusedHint(%q)", tt.addr)
	}
}

func TestShellQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.1:5000", "127.0.0.1:5000"},
		{"a-b_c.d:1", "a-b_c.d:1"},
		{"[::1]:5000", "'[::1]:5000'"},
		{"host name:1", "'host name:1'"},
		{"it's:1", `'it'\''s:1'`},
		{"", "''"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, shellQuote(tt.in), "shellQuote(%q)", tt.in)
	}
}

// A failed dial gets a hint that depends on why it failed: nothing
// listening (a reset answered the SYN), or no way to the host (an ICMP
// "unreachable" answered it, or there is no route). The errors are made
// as net.Dial makes them; TestAppClientCommandNetworkUnreachable meets a
// real one.
func TestDialFailedHints(t *testing.T) {
	dialError := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	tests := []struct {
		name string
		err  error
		want string // the hint, on the line after the error
	}{
		{"refused", dialError(syscall.ECONNREFUSED), "is the server running? Start it in the chapter's folder with: go run ./cmd/app-server -addr 10.9.8.7:65432\n"},
		{"host unreachable", dialError(syscall.EHOSTUNREACH), "there is no way from here to 10.9.8.7: is the address right? See whether it answers at all with: ping 10.9.8.7\n"},
		{"network unreachable", dialError(syscall.ENETUNREACH), "there is no way from here to 10.9.8.7: is the address right? See whether it answers at all with: ping 10.9.8.7\n"},
		{"timed out", errors.New("dial tcp 10.9.8.7:65432: i/o timeout"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, 1, dialFailed(context.Background(), "10.9.8.7:65432", tt.err, &stderr))
			assert.Equal(t, "app-client: "+tt.err.Error()+"\n"+tt.want, stderr.String())
		})
	}
}
