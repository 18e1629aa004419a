package multiconn_test

import (
	"context"
	"io"
	"log"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/fake"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// hostileInputs are what a peer may send to forge a line in a log, or to
// make one huge.
var hostileInputs = []struct{ name, send string }{
	{"a long line", strings.Repeat("x", 100<<10) + "\n"},
	{"a line break, then a forged line", "hello\nclosing connection to 10.9.8.7:6543: forged\n"},
	{"carriage returns", "hello\rforged\r\n"},
	{"DEL", strings.Repeat("\x7f", 300) + "\n"},
	{"bytes that are not UTF-8", "\xff\xfe\xc3\x28 forged\n"},
	{"all of them, again and again", strings.Repeat("\x7f\xff\r\n\rforged\n", 8<<10)},
}

// maxLogLine bounds a log line, whatever a peer sends: 64 bytes shown, at
// most 4 characters each once escaped (\x7f), and the rest of the line.
const maxLogLine = 4*64 + 100

// quotedBytes matches a Go string literal, as %q writes it.
const quotedBytes = `"(?:[^"\\]|\\.)*"`

// checkLogLines fails t unless every line of logs ends with a line break,
// matches one of patterns (regular expressions, each matched against the
// whole line), is at most maxLogLine bytes long, and is valid UTF-8 with
// no control character in it: no peer's byte was written raw. Each string
// literal in a line must stand for bytes of sent.
func checkLogLines(t *testing.T, logs, sent string, patterns ...string) {
	t.Helper()
	whole := regexp.MustCompile(`^(?:` + strings.Join(patterns, "|") + `)$`)
	literal := regexp.MustCompile(quotedBytes)
	for line := range strings.Lines(logs) {
		assert.True(t, strings.HasSuffix(line, "\n"), "log line %q does not end with a line break", line)
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), maxLogLine, "log line %.80q... is too long", line)
		assert.True(t, utf8.ValidString(line), "log line %q is not UTF-8", line)
		assert.False(t, strings.ContainsFunc(line, unicode.IsControl), "log line %q holds a control character", line)
		assert.Regexp(t, whole, line, "a log line the program does not write")
		for _, q := range literal.FindAllString(line, -1) {
			b, err := strconv.Unquote(q)
			if assert.NoError(t, err, "in log line %q", line) {
				assert.Contains(t, sent, b, "log line %q shows bytes that were not sent", line)
			}
		}
	}
}

// The server's line per echo quotes what it read, escaped and cut short:
// nothing a client sends can forge a line or make one long.
func TestLogLinesQuoteClientBytes(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			var logs testutil.Buffer
			r := testutil.StartServer(t, &multiconn.Server{Log: log.New(&logs, "", 0)}, multiconn.ErrServerClosed)
			c := testutil.Dial(t, r.Addr)
			assert.Equal(t, tt.send, string(echo(t, c, []byte(tt.send))))
			addr := regexp.QuoteMeta(c.LocalAddr().String())
			testutil.WaitFor(t, "the closing line", func() bool { return strings.Contains(logs.String(), "closing") })
			checkLogLines(t, logs.String(), tt.send,
				`listening on 127\.0\.0\.1:\d+`,
				`accepted connection from `+addr,
				`echoing `+quotedBytes+`(?:\.\.\. \(\d+ bytes\))? to `+addr,
				`closing connection to `+addr+`: \d+ bytes? in, \d+ out`)
		})
	}
}

// The client's line per read quotes what the server sent, escaped and cut
// short, however wrong it is.
func TestClientLogLinesQuoteServerBytes(t *testing.T) {
	for _, tt := range hostileInputs {
		t.Run(tt.name, func(t *testing.T) {
			addr := fake.Server(t, func(c net.Conn) {
				if _, ok := readMessages(c); ok {
					io.WriteString(c, tt.send)
					io.Copy(io.Discard, c)
				}
			})
			var logs testutil.Buffer
			client := &multiconn.Client{Log: log.New(&logs, "", 0)}
			_, err := client.Run(context.Background(), addr, 1, multiconn.DefaultMessages)
			require.Error(t, err)
			checkLogLines(t, logs.String(), tt.send+defaultMessagesEcho,
				`starting connection 1 to `+regexp.QuoteMeta(addr),
				`sending `+quotedBytes+` to connection 1`,
				`received `+quotedBytes+`(?:\.\.\. \(\d+ bytes\))? from connection 1`,
				`connection 1: echo differs from what was sent at byte \d+`)
			assert.Contains(t, logs.String(), "\nreceived ")
		})
	}
}
