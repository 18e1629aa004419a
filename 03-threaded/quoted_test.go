package threaded

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// quoted shows a line from the network in an error message: escaped, and
// cut after 200 bytes, or before a character that the 200th byte is part
// of, with the size.
func TestQuoted(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", `""`},
		{"text", "OK...hello", `"OK...hello"`},
		{"carriage return, DEL, not UTF-8", "a\rb\x7fc\xffd", `"a\rb\x7fc\xffd"`},
		{"200 bytes", x(200), `"` + x(200) + `"`},
		{"201 bytes", x(201), `"` + x(200) + `"... (201 bytes)`},
		{"a 2-byte character across the cut", x(199) + "é" + x(10), `"` + x(199) + `"... (211 bytes)`},
		{"a 4-byte character across the cut", x(198) + "🐶" + x(10), `"` + x(198) + `"... (212 bytes)`},
		{"continuation bytes across the cut", strings.Repeat("\x80", 300), `"` + strings.Repeat(`\x80`, 197) + `"... (300 bytes)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, quoted(tt.in))
		})
	}
}
