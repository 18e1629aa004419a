package reverse_test

import (
	"bytes"
	"slices"
	"testing"
	"unicode/utf8"

	reverse "example.com/sockets/07-reverse-repl"
)

// FuzzReverse checks what must hold for any input:
//
//   - Bytes and Runes keep the length, and every byte: Bytes twice is the
//     input, and Runes's result has the same bytes, in some order;
//   - neither writes to its input;
//   - for valid UTF-8, Runes's result is valid UTF-8, its runes are the
//     input's runes in reverse order, and Runes twice is the input.
//
// Runes twice is not always the input when it is invalid UTF-8, as
// Runes's doc says: TestRunesTwiceCanChangeInvalidInput shows why.
//
//	go test -run '^$' -fuzz '^FuzzReverse$' -fuzztime 10s .
func FuzzReverse(f *testing.F) {
	for _, seed := range []string{
		"", "a", helloWorld, dogText, "cafe\u0301", "a\u00e9\u20ac\U0001F436",
		"a\xffb", "a\x80b", "\xf0\x9f", "ab\xf0\x9f\x90", "\xed\xa0\x80", "\xc0\xaf",
		dogTextByBytes, "\xa9\xc3", "\U0010ffff\u0000\x7f",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		orig := bytes.Clone(b)

		byBytes := reverse.Bytes(b)
		if len(byBytes) != len(b) {
			t.Fatalf("Bytes(%q) = %q: %d bytes, want %d", b, byBytes, len(byBytes), len(b))
		}
		if twice := reverse.Bytes(byBytes); !bytes.Equal(twice, b) {
			t.Errorf("Bytes(Bytes(%q)) = %q", b, twice)
		}

		byRunes := reverse.Runes(b)
		if len(byRunes) != len(b) {
			t.Fatalf("Runes(%q) = %q: %d bytes, want %d", b, byRunes, len(byRunes), len(b))
		}
		if !slices.Equal(sorted(byRunes), sorted(b)) {
			t.Errorf("Runes(%q) = %q: not the same bytes", b, byRunes)
		}

		if !bytes.Equal(b, orig) {
			t.Fatalf("the input changed from %q to %q", orig, b)
		}

		if !utf8.Valid(b) {
			return
		}
		if !utf8.Valid(byRunes) {
			t.Errorf("Runes(%q) = %q: not valid UTF-8", b, byRunes)
		}
		want := []rune(string(b))
		slices.Reverse(want)
		if got := []rune(string(byRunes)); !slices.Equal(got, want) {
			t.Errorf("Runes(%q) = %q, want %q", b, byRunes, string(want))
		}
		if twice := reverse.Runes(byRunes); !bytes.Equal(twice, b) {
			t.Errorf("Runes(Runes(%q)) = %q", b, twice)
		}
	})
}

// sorted returns a sorted copy of b.
func sorted(b []byte) []byte {
	s := bytes.Clone(b)
	slices.Sort(s)
	return s
}
