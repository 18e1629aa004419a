package echo_test

import (
	"log"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	echo "example.com/sockets/02-echo"
	"example.com/sockets/02-echo/internal/testutil"
)

// hostileInputs are what a client may send to forge a line in the
// server's log, or to make one huge.
var hostileInputs = []struct{ name, send string }{
	{"a long line", strings.Repeat("x", 100<<10) + "\n"},
	{"a line break, then a forged line", "hello\nechoed 5 bytes to 10.9.8.7:6543 forged\n"},
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

// The server echoes what a client sends and logs only how many bytes, by
// the client's address: nothing a client sends can forge a line of the
// log or make one long.
func TestLogLinesHoldNoClientBytes(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			var logs testutil.Buffer
			r := testutil.StartServer(t, &echo.Server{Log: log.New(&logs, "", 0)}, echo.ErrServerClosed)
			got, err := echoTo(t, r.Addr, []byte(tt.send))
			require.NoError(t, err)
			assert.Equal(t, tt.send, string(got))
			testutil.WaitFor(t, "the server to log the echo", func() bool { return strings.Contains(logs.String(), "echoed") })

			assert.NotContains(t, logs.String(), "forged")
			checkLogLines(t, logs.String(),
				`listening on 127\.0\.0\.1:\d+`,
				`connection from 127\.0\.0\.1:\d+`,
				`echoed `+strconv.Itoa(len(tt.send))+` bytes to 127\.0\.0\.1:\d+`)
		})
	}
}
