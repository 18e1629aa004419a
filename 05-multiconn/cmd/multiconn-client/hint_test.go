package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hint is a command to paste: right in bash and zsh, and with -addr
// only when the address is not the one the server listens on by default.
func TestHint(t *testing.T) {
	const start = "is the server running? Start it in the chapter's folder with: go run ./cmd/multiconn-server"
	const port0 = "is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:65432", start},
		{"127.0.0.1:5000", start + " -addr 127.0.0.1:5000"},
		{"localhost:65432", start + " -addr localhost:65432"},
		{"my-host_1.example:80", start + " -addr my-host_1.example:80"},
		{"[::1]:5000", start + " -addr '[::1]:5000'"},
		{"[fe80::1%eth0]:5000", start + " -addr '[fe80::1%eth0]:5000'"},
		{"it's:5000", start + ` -addr 'it'\''s:5000'`},
		{"127.0.0.1:0", port0},
		{"[::1]:0", port0},
		{"localhost:0", port0},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, hint(tt.addr))
		})
	}
}
