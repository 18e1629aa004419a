// Package message is the wire format of the tutorial's application
// protocol, written and read byte for byte as the Python app-client.py and
// app-server.py do. A message is three parts:
//
//	2 bytes    the length of the JSON header, a big-endian uint16
//	JSON       {"byteorder": "little", "content-type": "text/json",
//	            "content-encoding": "utf-8", "content-length": 41}
//	content    exactly content-length bytes
//
// [Append] and [Write] produce the bytes; [Decoder] reads messages from an
// io.Reader, blocking until each is whole, and [Parser] is fed bytes as
// they arrive, the way the tutorial's Message class is.
package message

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// The content types and encodings the tutorial uses.
const (
	TypeJSON         = "text/json"
	TypeClientBinary = "binary/custom-client-binary-type"
	TypeServerBinary = "binary/custom-server-binary-type"

	EncodingUTF8   = "utf-8"
	EncodingBinary = "binary"
)

// MaxHeaderLen is the longest JSON header: its length has to fit in the
// 2-byte prefix.
const MaxHeaderLen = 1<<16 - 1

// DefaultMaxContent is the content-length a [Decoder] or [Parser] accepts
// when its MaxContent is zero: 1 MiB.
const DefaultMaxContent = 1 << 20

// The three kinds of bad message. Every error that a [Decoder] or [Parser]
// returns for bad bytes wraps one of them, so callers test with errors.Is;
// the text says what exactly was wrong.
var (
	// ErrHeader: the JSON header is not what the protocol says.
	ErrHeader = errors.New("bad JSON header")
	// ErrTooLarge: content-length is above the reader's limit.
	ErrTooLarge = errors.New("message too large")
	// ErrTruncated: the stream ended in the middle of a message.
	ErrTruncated = errors.New("truncated message")
)

// A Message is one message of the protocol. Its content-length on the
// wire is len(Content).
type Message struct {
	// ByteOrder is the sender's native byte order, "little" or "big", as
	// Python's sys.byteorder. Nothing in the protocol depends on it.
	ByteOrder       string
	ContentType     string // TypeJSON or any other type
	ContentEncoding string // EncodingUTF8 or EncodingBinary
	Content         []byte
}

// NativeByteOrder returns this machine's byte order, "little" or "big",
// for [Message.ByteOrder].
func NativeByteOrder() string {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return "little"
	}
	return "big"
}

// Append appends the wire bytes of m to dst. The JSON header is written as
// Python's json.dumps(header, ensure_ascii=False) writes it, keys in the
// tutorial's order. It fails if a header field is not valid UTF-8 or the
// header does not fit its 2-byte length.
func Append(dst []byte, m Message) ([]byte, error) {
	for _, s := range [...]string{m.ByteOrder, m.ContentType, m.ContentEncoding} {
		if !utf8.ValidString(s) {
			return dst, fmt.Errorf("%w: %q is not valid UTF-8", ErrHeader, s)
		}
	}
	start := len(dst)
	dst = append(dst, 0, 0) // the header's length, filled in below
	dst = append(dst, `{"byteorder": `...)
	dst = AppendString(dst, m.ByteOrder)
	dst = append(dst, `, "content-type": `...)
	dst = AppendString(dst, m.ContentType)
	dst = append(dst, `, "content-encoding": `...)
	dst = AppendString(dst, m.ContentEncoding)
	dst = append(dst, `, "content-length": `...)
	dst = strconv.AppendInt(dst, int64(len(m.Content)), 10)
	dst = append(dst, '}')
	n := len(dst) - start - 2
	if n > MaxHeaderLen {
		return dst[:start], fmt.Errorf("%w: %d bytes, more than the %d that fit its length", ErrHeader, n, MaxHeaderLen)
	}
	binary.BigEndian.PutUint16(dst[start:], uint16(n))
	return append(dst, m.Content...), nil
}

// Write writes m to w in a single Write call.
func Write(w io.Writer, m Message) error {
	b, err := Append(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// AppendString appends s as a JSON string, exactly as Python's
// json.dumps(s, ensure_ascii=False) writes it: everything is kept as it
// is, UTF-8 included, except `"` and `\`, which get a backslash, and the
// control characters below U+0020, which become \b \f \n \r \t or
// \u00XX with lower-case hex digits. (encoding/json differs: it also
// escapes <, > and &, and U+2028 and U+2029.)
// The caller makes sure s is valid UTF-8.
func AppendString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, `\b`...)
		case '\f':
			dst = append(dst, `\f`...)
		case '\n':
			dst = append(dst, `\n`...)
		case '\r':
			dst = append(dst, `\r`...)
		case '\t':
			dst = append(dst, `\t`...)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		start = i + 1
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendObject appends a JSON object of string keys and values, given as
// key, value, key, value…, in that order, as Python's
// json.dumps(dict, ensure_ascii=False) writes it:
// {"action": "search", "value": "morpheus"}. It fails if a key or value is
// not valid UTF-8, and panics if it is given an odd number of strings.
func AppendObject(dst []byte, keysAndValues ...string) ([]byte, error) {
	if len(keysAndValues)%2 != 0 {
		panic("message.AppendObject: odd number of strings")
	}
	for _, s := range keysAndValues {
		if !utf8.ValidString(s) {
			return dst, fmt.Errorf("%q is not valid UTF-8", s)
		}
	}
	dst = append(dst, '{')
	for i := 0; i < len(keysAndValues); i += 2 {
		if i > 0 {
			dst = append(dst, ", "...)
		}
		dst = AppendString(dst, keysAndValues[i])
		dst = append(dst, ": "...)
		dst = AppendString(dst, keysAndValues[i+1])
	}
	return append(dst, '}'), nil
}
