package reverse

// The reversal the server applies: by runes, or by bytes as the tutorial
// does. New in this chapter.

import "unicode/utf8"

// Runes returns a copy of b with its characters in reverse order: each
// UTF-8 encoded rune stays whole, so "héllo 🐶" becomes "🐶 olléh", and for
// valid UTF-8, Runes(Runes(b)) is b. A byte that is not part of valid UTF-8
// is kept as it is and moves as a unit of its own, so no byte is lost or
// replaced. Such bytes can meet in a new order and make a valid rune, so
// for invalid input reversing twice need not give b back: "\xa9\xc3"
// reversed is "é".
//
// A rune is not always what a reader sees as one character: "e" followed by
// U+0301 (a combining acute accent) shows as "é", and reversing puts the
// accent before the "e".
func Runes(b []byte) []byte {
	out := make([]byte, len(b))
	end := len(out)
	for i := 0; i < len(b); {
		// DecodeRune returns a size of 1 for a byte that does not start
		// a valid encoding, so invalid bytes are copied one by one.
		_, size := utf8.DecodeRune(b[i:])
		end -= size
		copy(out[end:], b[i:i+size])
		i += size
	}
	return out
}

// Bytes returns a copy of b with its bytes in reverse order, as the
// tutorial's bytes(reversed(data)) does. That is right for ASCII, and wrong
// for any character that UTF-8 encodes in more than one byte: reversing
// "é" (0xC3 0xA9) gives 0xA9 0xC3, which is not UTF-8 at all.
func Bytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[len(b)-1-i] = c
	}
	return out
}

// incompleteRune reports whether b ends partway through a rune: with the
// first bytes of a valid UTF-8 encoding, but not all of them. A read can
// stop there, when the rest of the rune has not arrived yet.
func incompleteRune(b []byte) bool {
	// A rune is at most utf8.UTFMax bytes, so its start, if any is
	// missing, is among the last UTFMax-1 bytes.
	for i := len(b) - 1; i >= 0 && i > len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			return !utf8.FullRune(b[i:])
		}
	}
	return false
}
