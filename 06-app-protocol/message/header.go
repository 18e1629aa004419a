package message

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// The four fields every JSON header must have, once each.
const (
	fieldByteOrder = 1 << iota
	fieldContentType
	fieldContentEncoding
	fieldContentLength
	allFields = 1<<iota - 1
)

var fieldNames = map[string]int{
	"byteorder":        fieldByteOrder,
	"content-type":     fieldContentType,
	"content-encoding": fieldContentEncoding,
	"content-length":   fieldContentLength,
}

// checkHeaderStart fails unless the first byte of a JSON header is '{'.
// Python never writes anything before it, and checking it as soon as it
// arrives turns an HTTP request or a TLS hello into an error at once,
// rather than a wait for the 18 KB ("GE") or 5 KB its first two bytes
// announce.
func checkHeaderStart(c byte) error {
	if c == '{' {
		return nil
	}
	shown := fmt.Sprintf("byte 0x%02x", c)
	if c >= 0x20 && c < 0x7f {
		shown = "'" + string(rune(c)) + "'"
	}
	return fmt.Errorf("%w: starts with %s where '{' should be: not this protocol", ErrHeader, shown)
}

// parseHeader decodes a JSON header into m's fields and returns its
// content-length, checked against maxContent. Keys may come in any order;
// each of the four must be there exactly once, with the right type, and
// other keys are ignored, so that a sender may add headers.
func parseHeader(b []byte, maxContent int) (m Message, length int, err error) {
	bad := func(format string, args ...any) (Message, int, error) {
		return Message{}, 0, fmt.Errorf("%w: "+format, append([]any{ErrHeader}, args...)...)
	}
	if len(b) == 0 {
		return bad("empty")
	}
	if err := checkHeaderStart(b[0]); err != nil {
		return Message{}, 0, err
	}
	if !utf8.Valid(b) {
		// encoding/json would quietly turn the bad bytes into U+FFFD.
		return bad("not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // '{', checked above
		return bad("%s", jsonError(err))
	}
	seen := 0
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return bad("%s", jsonError(err))
		}
		key := tok.(string) // inside an object, a token before a value is its key
		var v any
		if err := dec.Decode(&v); err != nil {
			return bad("%s: %s", Quote(key), jsonError(err))
		}
		field, known := fieldNames[key]
		if !known {
			continue
		}
		if seen&field != 0 {
			return bad("%q appears twice", key)
		}
		seen |= field
		if field == fieldContentLength {
			length, err = parseLength(v, maxContent)
			if err != nil {
				return Message{}, 0, err
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return bad("%q is %s, want a string", key, jsonKind(v))
		}
		switch field {
		case fieldByteOrder:
			if s != "little" && s != "big" {
				return bad(`"byteorder" is %s, want "little" or "big"`, Quote(s))
			}
			m.ByteOrder = s
		case fieldContentType:
			m.ContentType = s
		case fieldContentEncoding:
			if s != EncodingUTF8 && s != EncodingBinary {
				return bad(`"content-encoding" %s is not one this protocol knows, want %q or %q`, Quote(s), EncodingUTF8, EncodingBinary)
			}
			m.ContentEncoding = s
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return bad("%s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("more after the JSON object")
	}
	if missing := allFields &^ seen; missing != 0 {
		for _, key := range [...]string{"byteorder", "content-type", "content-encoding", "content-length"} {
			if missing&fieldNames[key] != 0 {
				return bad("%q is missing", key)
			}
		}
	}
	return m, length, nil
}

// parseLength checks a content-length: a JSON number written as a whole
// number of bytes (not 41.0, 4.1e1 or -1), at most maxContent.
func parseLength(v any, maxContent int) (int, error) {
	num, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("%w: \"content-length\" is %s, want a number", ErrHeader, jsonKind(v))
	}
	n, err := strconv.ParseUint(string(num), 10, 63)
	switch {
	case errors.Is(err, strconv.ErrRange):
		return 0, fmt.Errorf("%w: content-length %s is more than the limit of %d bytes", ErrTooLarge, cut(string(num)), maxContent)
	case err != nil:
		return 0, fmt.Errorf("%w: content-length %s is not a whole number of bytes", ErrHeader, cut(string(num)))
	case n > uint64(maxContent):
		return 0, fmt.Errorf("%w: content-length %d is more than the limit of %d bytes", ErrTooLarge, n, maxContent)
	}
	return int(n), nil
}

// jsonKind names the JSON type of a value from encoding/json, for errors.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "true or false"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	default:
		return "an object"
	}
}

// DecodeStrings decodes JSON content that must be an object whose values
// are all strings, such as the tutorial's {"action": "search", "value":
// "morpheus"} and {"result": "…"}. It fails on anything else: content that
// is not valid UTF-8 or not JSON, a JSON value that is not an object, a
// key that appears twice, a value that is not a string.
func DecodeStrings(content []byte) (map[string]string, error) {
	if !utf8.Valid(content) {
		return nil, errors.New("JSON content is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(content))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("JSON content: %s", jsonError(err))
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("JSON content is %s, want an object", tokenKind(tok))
	}
	obj := make(map[string]string)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("JSON content: %s", jsonError(err))
		}
		key := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("JSON content: %s: %s", Quote(key), jsonError(err))
		}
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("JSON content: %s is %s, want a string", Quote(key), jsonKind(v))
		}
		if _, dup := obj[key]; dup {
			return nil, fmt.Errorf("JSON content: %s appears twice", Quote(key))
		}
		obj[key] = s
	}
	if _, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("JSON content: %s", jsonError(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("JSON content: more after the JSON object")
	}
	return obj, nil
}

// tokenKind names the JSON type that a first token starts.
func tokenKind(tok json.Token) string {
	switch tok {
	case json.Delim('['):
		return "an array"
	}
	return jsonKind(tok)
}

// Errors show what a peer sent, and a peer may send anything: a key of a
// million DEL bytes, a number of 60,000 digits, a newline. So an error
// never holds a peer's text as it is, only through Quote or cut, and is
// never much longer than a line.

// MaxQuoted is how many bytes of a peer's text an error shows: about
// two hundred, escaped, and then how long the text was.
const MaxQuoted = 200

// Quote returns s as Go's %q writes it (double quotes, with \n, \x7f,
// \u2028 and the like for anything that is not a printable character),
// cut after about MaxQuoted bytes: "\x7f\x7f"... (1048576 bytes). Errors use
// it for every string a peer sent, so that no error can break a log line
// or grow with what the peer sent.
func Quote(s string) string {
	b := make([]byte, 0, MaxQuoted+24)
	b = append(b, '"')
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		q := strconv.Quote(s[i : i+w]) // one character, or one bad byte
		q = q[1 : len(q)-1]
		if len(b)+len(q) > MaxQuoted {
			return fmt.Sprintf("%s\"... (%d bytes)", b, len(s))
		}
		b = append(b, q...)
		i += w
	}
	return string(append(b, '"'))
}

// cut shortens text that needs no escaping (a JSON number, an error from
// encoding/json) to MaxQuoted bytes, and says how long it was.
func cut(s string) string {
	if len(s) <= MaxQuoted {
		return s
	}
	n := MaxQuoted
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d bytes)", s[:n], len(s))
}

// jsonError is the text of an error from encoding/json, cut: it may quote
// a number from the input whole ("cannot unmarshal number 1e999...").
func jsonError(err error) string { return cut(err.Error()) }
