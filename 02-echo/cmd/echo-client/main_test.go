package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The hint must work when typed exactly as shown: from the chapter's folder,
// in bash or zsh, and only with an address a server can listen on.
func TestRefusedHint(t *testing.T) {
	const start = "is the server running? Start it in the chapter's folder with: go run ./cmd/echo-server"
	const port0 = "is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	tests := []struct {
		addr string
		want string
	}{
		{"127.0.0.1:65432", start}, // the default needs no -addr
		{"127.0.0.1:5000", start + " -addr 127.0.0.1:5000"},
		{":5000", start + " -addr :5000"},
		{"localhost:5000", start + " -addr localhost:5000"},
		{"my_host-1.lan:5000", start + " -addr my_host-1.lan:5000"},
		{"[::1]:65432", start + " -addr '[::1]:65432'"}, // unquoted, zsh takes [::1] for a pattern
		{"[fe80::1%eth0]:5000", start + " -addr '[fe80::1%eth0]:5000'"},
		{"it's:5000", start + ` -addr 'it'\''s:5000'`},
		{"127.0.0.1:0", port0},
		{"[::1]:0", port0},
		{":0", port0},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			assert.Equal(t, tt.want, refusedHint(tt.addr))
		})
	}
}
