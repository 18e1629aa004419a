package app

// Showing what a peer sent, in one line: the server's log lines and
// answers, and what the client prints. New in this chapter, where a
// peer's text (a request, a content-type, a result) goes into lines that
// someone reads in a terminal.

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"example.com/sockets/06-app-protocol/message"
)

// shown is how many bytes of a peer's text a line shows: as many as an
// error does (message.MaxQuoted).
const shown = message.MaxQuoted

// quote shows a client's text in a log line: between backquotes when
// every character of what is shown is printable, as a Go string literal
// with escapes (message.Quote) when not. Either way, nothing a client
// sends can end a line, move the cursor or pass for the server's own
// words, and past about 200 bytes quote stops and says how long the text
// was.
func quote(s string) string { return inQuotes("`", s, "`") }

// echo shows, in an answer, a string the client sent: between single
// quotes, as the tutorial does, when it is printable, cut after about 200
// bytes; as a Go string literal with escapes (message.Quote) when not. An
// answer stays short, and shows control characters as escapes, whatever
// the client sent.
func echo(s string) string { return inQuotes("'", s, "") }

// Show is quote for the client's side: it returns text a server sent as
// the client prints it, as it is (without quotes) when every character
// shown is printable, as a Go string literal with escapes (message.Quote)
// when not, and cut after about 200 bytes. A server can no more end a
// line, move the cursor or flood the terminal of whoever runs the client
// than a client can do that to the server's log.
func Show(s string) string { return inQuotes("", s, "") }

// inQuotes returns s for a line, between the marks q: whole when every
// character is printable and s is at most about 200 bytes, and cut there,
// followed by its size, when longer; but as a Go string literal with
// escapes (message.Quote) when what it would show holds a character that
// is not printable, or one of unsafe.
func inQuotes(q, s, unsafe string) string {
	n := shownPart(s)
	switch {
	case !printable(s[:n]) || strings.ContainsAny(s[:n], unsafe):
		return message.Quote(s)
	case n < len(s):
		return fmt.Sprintf("%s%s%s... (%d bytes)", q, s[:n], q, len(s))
	}
	return q + s + q
}

// shownPart returns how many bytes of s a line shows:
// all of it up to shown bytes, and otherwise shown bytes or a little less,
// so as not to cut a character in two.
func shownPart(s string) int {
	if len(s) <= shown {
		return len(s)
	}
	n := shown
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return n
}

// printable reports whether s is valid UTF-8 made only of printable
// characters (strconv.IsPrint: letters, marks, numbers, punctuation,
// symbols and the ASCII space; no control or format character, no line
// or paragraph separator).
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}

// Repr shows b as Python shows a bytes value, b'\x00g{"byteorder": …}',
// so that the lines the commands print can be set beside the tutorial's.
// Past max bytes it stops, and says how many there were in all.
func Repr(b []byte, max int) string {
	var sb strings.Builder
	total := len(b)
	if total > max {
		b = b[:max]
	}
	quote := byte('\'')
	if bytes.IndexByte(b, '\'') >= 0 && bytes.IndexByte(b, '"') < 0 {
		quote = '"'
	}
	sb.WriteByte('b')
	sb.WriteByte(quote)
	for _, c := range b {
		switch {
		case c == quote || c == '\\':
			sb.WriteByte('\\')
			sb.WriteByte(c)
		case c == '\t':
			sb.WriteString(`\t`)
		case c == '\n':
			sb.WriteString(`\n`)
		case c == '\r':
			sb.WriteString(`\r`)
		case c < 0x20 || c >= 0x7f:
			sb.WriteString(`\x`)
			sb.WriteString(strconv.FormatUint(uint64(c)>>4, 16))
			sb.WriteString(strconv.FormatUint(uint64(c)&0xf, 16))
		default:
			sb.WriteByte(c)
		}
	}
	sb.WriteByte(quote)
	if total > max {
		fmt.Fprintf(&sb, "... (%d bytes)", total)
	}
	return sb.String()
}
