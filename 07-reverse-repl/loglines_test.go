package reverse_test

import (
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	reverse "example.com/sockets/07-reverse-repl"
	"example.com/sockets/07-reverse-repl/internal/testutil"
)

// hostileInputs are what a peer may send to forge a line in a log, or to
// make one huge.
var hostileInputs = []struct{ name, send string }{
	{"a long line", strings.Repeat("x", 100<<10) + "\n"},
	{"a line break, then a forged line", "hello\nclosing connection to 10.9.8.7:6543\n"},
	{"carriage returns", "hello\rforged\r\n"},
	{"DEL", strings.Repeat("\x7f", 300) + "\n"},
	{"bytes that are not UTF-8", "\xff\xfe\xc3\x28 forged\n"},
	{"all of them, again and again", strings.Repeat("\x7f\xff\r\n\rforged\n", 8<<10)},
}

// quotedBytes matches a Go string literal, as %q writes it.
const quotedBytes = `"(?:[^"\\]|\\.)*"`

// checkLines fails t unless every line of out ends with a line break,
// matches one of patterns (regular expressions, each matched against the
// whole line), is at most max bytes long, and is valid UTF-8 with no
// control character in it: no peer's byte was written raw. Each string
// literal in a line must stand for bytes of one of sources.
func checkLines(t *testing.T, out string, max int, sources []string, patterns ...string) {
	t.Helper()
	whole := regexp.MustCompile(`^(?:` + strings.Join(patterns, "|") + `)$`)
	literal := regexp.MustCompile(quotedBytes)
	for line := range strings.Lines(out) {
		assert.True(t, strings.HasSuffix(line, "\n"), "line %q does not end with a line break", line)
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), max, "line %.80q... is too long", line)
		assert.True(t, utf8.ValidString(line), "line %q is not UTF-8", line)
		assert.False(t, strings.ContainsFunc(line, unicode.IsControl), "line %q holds a control character", line)
		assert.Regexp(t, whole, line, "a line the program does not write")
		for _, q := range literal.FindAllString(line, -1) {
			b, err := strconv.Unquote(q)
			if assert.NoError(t, err, "in line %q", line) {
				assert.True(t, containsAny(sources, b), "line %q shows bytes that were not sent", line)
			}
		}
	}
}

func containsAny(sources []string, s string) bool {
	for _, src := range sources {
		if strings.Contains(src, s) {
			return true
		}
	}
	return false
}

// The server's received and sent lines quote the bytes, escaped and cut
// to 200: nothing a client sends can forge a line of the log or make one
// long, whatever the read size.
func TestLogLinesQuoteClientBytes(t *testing.T) {
	// 200 bytes shown, at most 4 characters each once escaped (\x7f),
	// and the rest of the line.
	const maxLogLine = 4*200 + 100
	for _, readSize := range []int{0, 1 << 20} {
		for _, tt := range hostileInputs {
			name := tt.name
			if readSize > 0 {
				name += ", ReadSize 1 MiB"
			}
			t.Run(name, func(t *testing.T) {
				r, logs := startLoggingServer(t, &reverse.Server{ReadSize: readSize})
				answer, peer := tutorialClient(t, r.Addr, tt.send)
				waitServerClosingLine(t, logs, peer)
				addr := regexp.QuoteMeta(peer)
				checkLines(t, logs.String(), maxLogLine, []string{tt.send, answer},
					`listening on 127\.0\.0\.1:\d+`,
					`connection from `+addr,
					`received \d+ bytes from `+addr+`: `+quotedBytes+`(?:\.\.\.)?`,
					`sent \d+ bytes to `+addr+`: `+quotedBytes+`(?:\.\.\.)?`,
					`closing connection to `+addr+`(?: \(ignored \d+ more bytes? from it\))?`)
				assert.Contains(t, logs.String(), "\nsent ")
			})
		}
	}
}

// The REPL shows what it receives to the person at the keyboard as one
// line, escaped: the bytes cannot move the cursor, clear the line, or
// pass for a line of the REPL's own. It shows as many as recv asked for.
func TestREPLQuotesWhatItReceives(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			ln := testutil.Listen(t)
			out := new(testutil.Buffer)
			done := startScript(t, echoREPL(out), "dial "+ln.Addr().String()+"\nrecv\nclose\n")
			peer := acceptOne(t, ln)
			sent := make(chan error, 1)
			go func() {
				_, err := io.WriteString(peer, tt.send)
				sent <- err
			}()
			require.NoError(t, testutil.Receive(t, done, "the script to end"))
			require.NoError(t, peer.Close()) // ends the write, if the REPL left some unread
			testutil.Receive(t, sent, "the peer's write to end")

			checkLines(t, out.String(), 4*reverse.DefaultRecvSize+100, []string{tt.send},
				`> dial 127\.0\.0\.1:\d+`,
				`connected to 127\.0\.0\.1:\d+ from 127\.0\.0\.1:\d+`,
				`> recv`,
				`received \d+ bytes?: `+quotedBytes,
				`> close`,
				`closed the connection`)
			assert.Contains(t, out.String(), "\nreceived ")
		})
	}
}
