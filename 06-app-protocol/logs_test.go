package app_test

import (
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/message"
)

// Limits on what a client can make the server write: a log line, and an
// answer (the whole message on the wire).
const (
	maxLogLine = 600
	maxAnswer  = 600
)

// Clients that send what a log or an answer must not show as it is: a
// megabyte of DEL bytes, a header key of 60 KB, a newline that would
// start a forged log line, CR/LF between JSON tokens, bytes that are not
// UTF-8, C1 controls and line separators, a number of 60,000 digits. Every
// log line is one event, about one of these clients, with no control
// character, and short; every answer is short too.
func TestServerLogsAndAnswersQuoteWhatClientsSend(t *testing.T) {
	del := strings.Repeat("\x7f", 1<<20-7)
	forged := "binary/x\nclosing connection to 10.9.8.7:6543: rejected: this whole line is forged"
	tests := []struct {
		name   string
		send   []byte
		answer string // in the result, or the content of a binary answer
		line   string // in the log, as written
	}{
		{
			name:   "DEL-byte JSON key of 1 MiB",
			send:   rawJSONRequest(`{"` + del + `": 1}`),
			answer: `Error: bad request: JSON content: "\x7f\x7f`,
			line:   `"... (1048569 bytes) is a number, want a string`,
		},
		{
			name:   "header key of 60 KB",
			send:   rawMessage(`{"`+strings.Repeat("\x7f", 60_000)+`": nope}`, ""),
			answer: `Error: bad JSON header: "\x7f\x7f`,
			line:   `"... (60000 bytes): invalid character 'o' in literal null (expecting 'u')`,
		},
		{
			name:   "newline in the content-type of a valid binary request",
			send:   rawMessage(rawHeader(`binary/x\nclosing connection to 10.9.8.7:6543: rejected: this whole line is forged`, "binary", "3"), "abc"),
			answer: "First 10 bytes of request: abc",
			line:   "received " + message.Quote(forged) + " request from ",
		},
		{
			name:   "CR/LF between the tokens of a valid search",
			send:   rawJSONRequest("{\"action\":\r\n\"search\",\r\n\"value\": \"morpheus\"}"),
			answer: morpheusAnswer,
			line:   `received request "{\"action\":\r\n\"search\",\r\n\"value\": \"morpheus\"}" from `,
		},
		{
			name:   "C1 control and line separator in a valid search",
			send:   rawJSONRequest("{\"action\": \"search\", \"value\": \"a\u0085b\u2028c\u009b2J\"}"),
			answer: `No match for "a\u0085b\u2028c\u009b2J".`,
			line:   `received request "{\"action\": \"search\", \"value\": \"a\u0085b\u2028c\u009b2J\"}" from `,
		},
		{
			name:   "invalid UTF-8 in the JSON content",
			send:   rawJSONRequest("{\"action\": \"search\", \"value\": \"\xff\xfe\n\"}"),
			answer: "Error: bad request: JSON content is not valid UTF-8.",
			line:   ": rejected: bad request: JSON content is not valid UTF-8",
		},
		{
			name:   "invalid UTF-8 in the header",
			send:   rawMessage(rawHeader("binary/\xff\n", "binary", "1"), "x"),
			answer: "Error: bad JSON header: not valid UTF-8.",
			line:   ": rejected: bad JSON header: not valid UTF-8",
		},
		{
			name:   "invalid action of 1 MiB",
			send:   rawJSONRequest(`{"action": "` + strings.Repeat("a", 1<<20-40) + `", "value": "x"}`),
			answer: "Error: invalid action 'aaaa",
			line:   `received request ` + "`" + `{"action": "aaaa`,
		},
		{
			name:   "a number of 60,000 digits",
			send:   rawJSONRequest(`{"action": 1e` + strings.Repeat("9", 60_000) + `}`),
			answer: `Error: bad request: JSON content: "action": json: cannot unmarshal number 1e999`,
			line:   "... (60062 bytes)\n",
		},
	}

	r, logs := startAppServer(t, &app.Server{})
	var clients []string
	for _, tt := range tests {
		c := dialApp(t, r.Addr)
		addr := c.LocalAddr().String()
		clients = append(clients, addr)
		c.sendRaw(t, tt.send)
		require.NoError(t, c.CloseWrite())
		answer, err := io.ReadAll(c)
		require.NoError(t, err, tt.name)
		assert.LessOrEqual(t, len(answer), maxAnswer, "%s: the answer", tt.name)

		m, err := message.NewDecoder(strings.NewReader(string(answer))).Decode()
		require.NoError(t, err, tt.name)
		result, _, err := app.Result(m)
		require.NoError(t, err, tt.name)
		assert.Contains(t, result, tt.answer, tt.name)

		waitClosingLine(t, logs, addr)
		assert.Contains(t, logs.String(), tt.line, tt.name)
	}

	// Every line is about the listener or one of the clients, whole, and
	// each client has exactly one closing line.
	closing := map[string]int{}
	for line := range strings.Lines(logs.String()) {
		line = strings.TrimSuffix(line, "\n")
		assert.LessOrEqual(t, len(line), maxLogLine, "a log line: %.300q", line)
		assert.True(t, utf8.ValidString(line), "a log line that is not UTF-8: %.300q", line)
		for _, r := range line {
			if r < ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
				t.Errorf("a log line holds %U: %.300q", r, line)
				break
			}
		}
		m := logLine.FindStringSubmatch(line)
		if !assert.NotNil(t, m, "a log line of no known form: %.300q", line) {
			continue
		}
		addr := m[1] + m[2] + m[3] + m[4] + m[5]
		if strings.HasPrefix(line, "listening on ") {
			continue
		}
		assert.Contains(t, clients, addr, "a line about another address: %.300q", line)
		if strings.HasPrefix(line, "closing connection to ") {
			closing[addr]++
		}
	}
	for _, addr := range clients {
		assert.Equal(t, 1, closing[addr], "closing lines about %s", addr)
	}
}

// logLine matches each form of line the server writes; the address is in
// one of the five groups.
var logLine = regexp.MustCompile(`^(?:listening on (\S+)|accepted connection from (\S+)|received .+ from (\S+)|sending b.+ to (\S+)|closing connection to (\S+?)(?:: .+)?)$`)
