package reverse

import (
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
