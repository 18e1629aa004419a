package threaded

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// quoted shows a line from the network in an error message: escaped, and
// cut after 64 bytes, or before a character that the 64th byte is part of,
// with the size; escaped, that is at most 4 × 64 characters, whatever the
// bytes.
func TestQuoted(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"text", "OK...hello", `"OK...hello"`},
		{"carriage return, DEL, not UTF-8", "a\rb\x7fc\xffd", `"a\rb\x7fc\xffd"`},
		{"64 bytes", x(64), `"` + x(64) + `"`},
		{"65 bytes", x(65), `"` + x(64) + `"... (65 bytes)`},
		{"a 2-byte character across the cut", x(63) + "é" + x(10), `"` + x(63) + `"... (75 bytes)`},
		{"a 4-byte character across the cut", x(62) + "🐶" + x(10), `"` + x(62) + `"... (76 bytes)`},
		{"continuation bytes across the cut", strings.Repeat("\x80", 300), `"` + strings.Repeat(`\x80`, 61) + `"... (300 bytes)`},
		{"DEL only", strings.Repeat("\x7f", 300), `"` + strings.Repeat(`\x7f`, 64) + `"... (300 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, quoted(tt.in))
		})
	}
}
