package basic_test

import (
	"io"
	"log"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	basic "example.com/sockets/01-basic-server"
	"example.com/sockets/01-basic-server/internal/testutil"
)

// hostileInputs are what a client may send to forge a line in the
// server's log, or to make one huge.
var hostileInputs = []struct{ name, send string }{
	{"a long line", strings.Repeat("x", 100<<10) + "\n"},
	{"a line break, then a forged line", "hello\nconnection from 10.9.8.7:6543 forged\n"},
	{"carriage returns", "hello\rforged\r\n"},
	{"DEL", strings.Repeat("\x7f", 300) + "\n"},
	{"bytes that are not UTF-8", "\xff\xfe\xc3\x28 forged\n"},
	{"all of them, again and again", strings.Repeat("\x7f\xff\r\n\rforged\n", 8<<10)},
}

// maxLogLine bounds a log line, whatever a client sends.
const maxLogLine = 300

// checkLogLines fails t unless every line of logs ends with a line break,
// matches one of patterns (regular expressions, each matched against the
// whole line), is at most maxLogLine bytes long, and is valid UTF-8 with
// no control character in it: no client byte was written raw.
func checkLogLines(t *testing.T, logs string, patterns ...string) {
	t.Helper()
	whole := regexp.MustCompile(`^(?:` + strings.Join(patterns, "|") + `)$`)
	for line := range strings.Lines(logs) {
		assert.True(t, strings.HasSuffix(line, "\n"), "log line %q does not end with a line break", line)
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), maxLogLine, "log line %.80q... is too long", line)
		assert.True(t, utf8.ValidString(line), "log line %q is not UTF-8", line)
		assert.False(t, strings.ContainsFunc(line, unicode.IsControl), "log line %q holds a control character", line)
		assert.Regexp(t, whole, line, "a log line the server does not write")
	}
}

// The server never reads what a client sends, and its log names clients
// by address only: nothing a client sends can forge a line of the log or
// make one long.
func TestLogLinesHoldNoClientBytes(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			var logs testutil.Buffer
			r := testutil.StartServer(t, &basic.Server{Log: log.New(&logs, "", 0)}, basic.ErrServerClosed)
			c := testutil.Dial(t, r.Addr)
			// The server hangs up without reading, so the write may
			// fail: its error does not matter here.
			sent := make(chan error, 1)
			go func() {
				_, err := io.WriteString(c, tt.send)
				sent <- err
			}()
			greeting := make([]byte, len(basic.Greeting))
			_, err := io.ReadFull(c, greeting)
			require.NoError(t, err)
			assert.Equal(t, basic.Greeting, string(greeting))
			io.Copy(io.Discard, c) // EOF, or a reset for the bytes the server never read
			testutil.Receive(t, sent, "the write to end")

			assert.NotContains(t, logs.String(), "forged")
			addr := regexp.QuoteMeta(c.LocalAddr().String())
			checkLogLines(t, logs.String(),
				`listening on 127\.0\.0\.1:\d+`,
				`connection from `+addr,
				`greet `+addr+`: write tcp4? \S+: [a-z ]+`)
		})
	}
}
