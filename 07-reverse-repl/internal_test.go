package reverse

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// incompleteRune decides whether the server reads more after its one read:
// true only when the read stopped partway through a valid encoding, so
// that the rest of the rune may still arrive. Invalid bytes never make it
// wait: no byte that could follow would make them valid.
func TestIncompleteRune(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"empty", "", false},
		{"ASCII", "Hello, world!", false},
		{"ASCII byte after a rune", "🐶a", false},

		// A 2-byte rune: é is C3 A9.
		{"2-byte rune, 1 of 2", "\xc3", true},
		{"2-byte rune, whole", "é", false},
		{"2-byte rune, 1 of 2, after text", "caf\xc3", true},

		// A 3-byte rune: € is E2 82 AC.
		{"3-byte rune, 1 of 3", "\xe2", true},
		{"3-byte rune, 2 of 3", "\xe2\x82", true},
		{"3-byte rune, whole", "€", false},
		{"3-byte rune, 2 of 3, after text", "5 \xe2\x82", true},

		// A 4-byte rune: 🐶 is F0 9F 90 B6.
		{"4-byte rune, 1 of 4", "\xf0", true},
		{"4-byte rune, 2 of 4", "\xf0\x9f", true},
		{"4-byte rune, 3 of 4", "\xf0\x9f\x90", true},
		{"4-byte rune, whole", "🐶", false},
		{"4-byte rune, 3 of 4, after text", "héllo \xf0\x9f\x90", true},
		{"4-byte rune, 3 of 4, after a 4-byte rune", "🐶\xf0\x9f\x90", true},
		{"two whole 4-byte runes", "🐶🐶", false},

		// Bytes that no continuation can make valid.
		{"0xff", "\xff", false},
		{"0xff after text", "abc\xff", false},
		{"lone continuation byte", "\x80", false},
		{"continuation bytes after ASCII", "a\x80\x80", false},
		{"four continuation bytes", "\x80\x80\x80\x80", false},
		{"continuation byte after a whole rune", "é\xa9", false},
		{"E0 80: overlong 3-byte start", "\xe0\x80", false},
		{"C0: overlong 2-byte lead", "\xc0", false},
		{"ED A0: surrogate half", "\xed\xa0", false},
		{"F4 90: above U+10FFFF", "\xf4\x90", false},
		{"F5: never a lead byte", "\xf5", false},
		{"lead byte then ASCII", "\xc3a", false},
		{"a rune's start, then another start", "\xe2\xc3", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, incompleteRune([]byte(tt.in)), "incompleteRune(%q)", tt.in)
		})
	}
}

// Every proper prefix of every rune length is incomplete, and topping it
// up byte by byte ends exactly when the rune is whole: what the server's
// receive loop relies on.
func TestIncompleteRuneUntilWhole(t *testing.T) {
	for _, r := range []string{"é", "€", "🐶", "\u07ff", "\uffff", "\U0010ffff"} {
		for n := 1; n < len(r); n++ {
			assert.True(t, incompleteRune([]byte("x"+r[:n])), "%q + %d of %d bytes of %q", "x", n, len(r), r)
		}
		assert.False(t, incompleteRune([]byte("x"+r)), "%q whole", r)
	}
}

// The hint after a refused dial must work when followed literally, in bash
// or zsh, from the chapter's folder.
func TestRefusedHint(t *testing.T) {
	const start = "nothing is listening there: is the server running? Start it in the chapter's folder with: go run ./cmd/reverse-server"
	const port0 = "nothing is listening there: is the server running? port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	tests := []struct {
		addr, want string
	}{
		{"127.0.0.1:7342", start},
		{"127.0.0.1:5000", start + " -addr 127.0.0.1:5000"},
		{"localhost:7342", start + " -addr localhost:7342"},
		{"my-host_1.example:7342", start + " -addr my-host_1.example:7342"},
		{"[::1]:7342", start + " -addr '[::1]:7342'"},
		{":7342", start + " -addr :7342"},
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

// hintFor names the address the dial command was given, not the one the
// resolver turned it into; a refusal it knows no address for is taken to
// be at the default.
func TestHintForARefusedDial(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	assert.Equal(t, refusedHint("[::1]:7342"), hintFor(&dialError{"[::1]:7342", refused}))
	assert.Equal(t, refusedHint("localhost:9000"), hintFor(fmt.Errorf("wrapped: %w", &dialError{"localhost:9000", refused})))
	assert.Equal(t, refusedHint(DefaultAddr), hintFor(refused))
	assert.Empty(t, hintFor(&dialError{"127.0.0.1:1", errors.New("no such host")}))
}

// logQuote shows a client's bytes in a log line: escaped, and cut after
// 200 bytes, or before a character that the 200th byte is part of.
func TestLogQuote(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"text", "Hello, world!", `"Hello, world!"`},
		{"a line break, then a forged line", "hi\nclosing connection to 10.9.8.7:6543", `"hi\nclosing connection to 10.9.8.7:6543"`},
		{"carriage return, DEL, not UTF-8", "a\rb\x7fc\xffd", `"a\rb\x7fc\xffd"`},
		{"200 bytes", x(200), `"` + x(200) + `"`},
		{"201 bytes", x(201), `"` + x(200) + `"...`},
		{"1 MiB", x(1 << 20), `"` + x(200) + `"...`},
		{"a 2-byte character across the cut", x(199) + "é" + x(10), `"` + x(199) + `"...`},
		{"a 4-byte character across the cut", x(198) + "🐶" + x(10), `"` + x(198) + `"...`},
		{"a character that ends at the cut", x(198) + "é" + x(10), `"` + x(198) + `é"...`},
		{"DEL, 300 times", strings.Repeat("\x7f", 300), `"` + strings.Repeat(`\x7f`, 200) + `"...`},
		{"continuation bytes across the cut", strings.Repeat("\x80", 300), `"` + strings.Repeat(`\x80`, 197) + `"...`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, logQuote([]byte(tt.in)))
		})
	}
}
