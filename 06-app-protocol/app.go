// Package app is the tutorial's application: a search service spoken over
// the length + JSON header protocol of package message. The client asks
// {"action": "search", "value": "morpheus"} and the server answers
// {"result": "Follow the white rabbit. 🐰"}; any other action is sent as
// binary content, and the server answers with its first ten bytes.
//
// Server and Client speak byte for byte as the tutorial's app-server.py
// and app-client.py do, so each works with the other's Python version.
// Beyond the tutorial, the server answers any number of requests on one
// connection, and a bad request, a silent client or a client that never
// reads costs it a clear log line and that one connection, nothing more.
// Its memory is bounded for all clients together: so many connections,
// and so many bytes for the requests in progress; a client beyond either
// is told the server is busy.
package app

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"example.com/sockets/06-app-protocol/message"
)

// DefaultAddr is where the commands listen and connect unless told
// otherwise: the tutorial's port on the loopback interface.
const DefaultAddr = "127.0.0.1:65432"

// Defaults for the zero values of the Server's and Client's fields.
const (
	DefaultIdleTimeout   = time.Minute      // between requests
	DefaultReadTimeout   = 10 * time.Second // for a whole request, from its first byte
	DefaultWriteTimeout  = 10 * time.Second // for a whole response
	DefaultClientTimeout = 10 * time.Second // for a request and its response

	DefaultMaxConns  = 1024     // connections served at once
	DefaultMaxMemory = 64 << 20 // bytes held by requests in progress, all connections together
)

// The tutorial's answers to a search.
var answers = map[string]string{
	"morpheus":   "Follow the white rabbit. \U0001F430",
	"ring":       "In the caves beneath the Misty Mountains. \U0001F48D",
	"\U0001F436": "\U0001F43E Playing ball! \U0001F3D0",
}

// binaryPrefix starts the answer to a binary request, which goes on with
// the request's first ten bytes.
const binaryPrefix = "First 10 bytes of request: "

// NewRequest builds the request the tutorial's client sends for ACTION
// VALUE: for "search", the JSON {"action": "search", "value": VALUE};
// for any other action, the binary content ACTION+VALUE.
func NewRequest(action, value string) (message.Message, error) {
	if action == "search" {
		content, err := message.AppendObject(nil, "action", action, "value", value)
		if err != nil {
			return message.Message{}, err
		}
		return jsonMessage(content), nil
	}
	if !utf8.ValidString(action + value) {
		return message.Message{}, fmt.Errorf("%q is not valid UTF-8", action+value)
	}
	return message.Message{
		ByteOrder:       message.NativeByteOrder(),
		ContentType:     message.TypeClientBinary,
		ContentEncoding: message.EncodingBinary,
		Content:         []byte(action + value),
	}, nil
}

// Respond is the server's side of the application: it returns the
// response to req. A JSON request gets a JSON result: the answer to a
// search, or, as in the tutorial, "Error: invalid action 'ACTION'." for
// another action. Any other content type gets the binary answer.
//
// A request Respond cannot make sense of (JSON content that is not an
// object of strings, a missing action or value, an encoding that is not
// utf-8) gets a JSON result "Error: …" too, and a non-nil error: the
// server sends the result and then hangs up.
func Respond(req message.Message) (message.Message, error) {
	if req.ContentType != message.TypeJSON {
		content := make([]byte, 0, len(binaryPrefix)+10)
		content = append(content, binaryPrefix...)
		content = append(content, req.Content[:min(10, len(req.Content))]...)
		return message.Message{
			ByteOrder:       message.NativeByteOrder(),
			ContentType:     message.TypeServerBinary,
			ContentEncoding: message.EncodingBinary,
			Content:         content,
		}, nil
	}
	result, err := search(req)
	if err != nil {
		result = "Error: " + err.Error() + "."
	}
	content, _ := message.AppendObject(nil, "result", result) // valid UTF-8: checked, or from the table
	return jsonMessage(content), err
}

// search answers a JSON request.
func search(req message.Message) (string, error) {
	if req.ContentEncoding != message.EncodingUTF8 {
		return "", fmt.Errorf("bad request: %s content must be %s, not %s", message.TypeJSON, message.EncodingUTF8, req.ContentEncoding)
	}
	obj, err := message.DecodeStrings(req.Content)
	if err != nil {
		return "", fmt.Errorf("bad request: %w", err)
	}
	action, ok := obj["action"]
	if !ok {
		return "", errors.New(`bad request: no "action"`)
	}
	if action != "search" {
		return "Error: invalid action " + echo(action) + ".", nil
	}
	value, ok := obj["value"]
	if !ok {
		return "", errors.New(`bad request: no "value" to search for`)
	}
	if answer, ok := answers[value]; ok {
		return answer, nil
	}
	return "No match for " + echo(value) + ".", nil
}

// echo shows, in an answer, a string the client sent: between single
// quotes, as the tutorial does, when it is printable, cut after about 200
// bytes; as a Go string literal with escapes (message.Quote) when not. An
// answer stays short, and shows control characters as escapes, whatever
// the client sent.
func echo(s string) string {
	n := shownPart(s)
	switch {
	case !printable(s[:n]):
		return message.Quote(s)
	case n < len(s):
		return fmt.Sprintf("'%s'... (%d bytes)", s[:n], len(s))
	}
	return "'" + s + "'"
}

// quote shows a client's text in a log line: between backquotes when
// every character of what is shown is printable, as a Go string literal
// with escapes (message.Quote) when not. Either way, nothing a client
// sends can end a line, move the cursor or pass for the server's own
// words, and past about 200 bytes quote stops and says how long the text
// was.
func quote(s string) string {
	n := shownPart(s)
	switch {
	case !printable(s[:n]) || strings.Contains(s[:n], "`"):
		return message.Quote(s)
	case n < len(s):
		return fmt.Sprintf("`%s`... (%d bytes)", s[:n], len(s))
	}
	return "`" + s + "`"
}

// shownPart returns how many bytes of s a log line or an answer shows:
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

func jsonMessage(content []byte) message.Message {
	return message.Message{
		ByteOrder:       message.NativeByteOrder(),
		ContentType:     message.TypeJSON,
		ContentEncoding: message.EncodingUTF8,
		Content:         content,
	}
}

// Result reads a response as the tutorial's client does: the "result" of
// a JSON response, or the content of a binary one; json says which.
func Result(resp message.Message) (result string, json bool, err error) {
	if resp.ContentType != message.TypeJSON {
		return string(resp.Content), false, nil
	}
	if resp.ContentEncoding != message.EncodingUTF8 {
		return "", true, fmt.Errorf("bad response: %s content in %s", message.TypeJSON, resp.ContentEncoding)
	}
	obj, err := message.DecodeStrings(resp.Content)
	if err != nil {
		return "", true, fmt.Errorf("bad response: %w", err)
	}
	result, ok := obj["result"]
	if !ok {
		return "", true, errors.New(`bad response: no "result"`)
	}
	return result, true, nil
}

// IsError reports whether a result is the server saying a request failed:
// in the tutorial's protocol, a result that starts with "Error: ".
func IsError(result string) bool { return strings.HasPrefix(result, "Error: ") }

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
