package message_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// A vector is one message exactly as the tutorial's Python scripts write
// it: header is the 2-byte length and the JSON header, content the content.
// The bytes were generated once with python3 on a little-endian machine,
// with build_request from python/app_client.py for the requests and
// Message._create_response from python/app_server.py for the responses
// (json.dumps(obj, ensure_ascii=False) underneath), and pasted here: the
// tests need no Python. The big-endian vector was made the same way with
// sys.byteorder set to "big".
type vector struct {
	name      string
	byteOrder string
	typ, enc  string
	kv        []string // a JSON message's keys and values, in order; nil for a binary one
	header    string
	content   string
}

// message returns the Message that v's bytes encode.
func (v vector) message() message.Message {
	return message.Message{
		ByteOrder:       v.byteOrder,
		ContentType:     v.typ,
		ContentEncoding: v.enc,
		Content:         []byte(v.content),
	}
}

// wire returns v's bytes: what Python sends.
func (v vector) wire() []byte { return []byte(v.header + v.content) }

// jsonVector is a little-endian text/json utf-8 vector.
func jsonVector(name string, kv []string, header, content string) vector {
	return vector{name, "little", message.TypeJSON, message.EncodingUTF8, kv, header, content}
}

// Values the vectors search for, and what the server answers.
const (
	quotesValue   = `say "hi" \ it's <b>&amp;</b>`
	nonASCIIValue = "caf\u00e9 \u4e2d \U0001F436"
	controlsValue = "a\nb\tc\x01d\x1fe\x7ff" // \x7f is not a control character for JSON: Python leaves it raw
	lineSepValue  = "line\u2028sep\u2029para"
)

var vectors = []vector{
	jsonVector("search morpheus request", []string{"action", "search", "value", "morpheus"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 41}",
		"{\"action\": \"search\", \"value\": \"morpheus\"}"),
	jsonVector("search morpheus response", []string{"result", "Follow the white rabbit. \U0001F430"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 43}",
		"{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}"),
	jsonVector("search ring request", []string{"action", "search", "value", "ring"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 37}",
		"{\"action\": \"search\", \"value\": \"ring\"}"),
	jsonVector("search ring response", []string{"result", "In the caves beneath the Misty Mountains. \U0001F48D"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 60}",
		"{\"result\": \"In the caves beneath the Misty Mountains. \xf0\x9f\x92\x8d\"}"),
	jsonVector("search dog request", []string{"action", "search", "value", "\U0001F436"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 37}",
		"{\"action\": \"search\", \"value\": \"\xf0\x9f\x90\xb6\"}"),
	jsonVector("search dog response", []string{"result", "\U0001F43E Playing ball! \U0001F3D0"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 37}",
		"{\"result\": \"\xf0\x9f\x90\xbe Playing ball! \xf0\x9f\x8f\x90\"}"),
	jsonVector("search unknown request", []string{"action", "search", "value", "neo"},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 36}",
		"{\"action\": \"search\", \"value\": \"neo\"}"),
	jsonVector("search unknown response", []string{"result", "No match for 'neo'."},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 33}",
		"{\"result\": \"No match for 'neo'.\"}"),
	jsonVector("search quotes request", []string{"action", "search", "value", quotesValue},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 64}",
		"{\"action\": \"search\", \"value\": \"say \\\"hi\\\" \\\\ it's <b>&amp;</b>\"}"),
	jsonVector("search quotes response", []string{"result", "No match for '" + quotesValue + "'."},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 61}",
		"{\"result\": \"No match for 'say \\\"hi\\\" \\\\ it's <b>&amp;</b>'.\"}"),
	jsonVector("search non-ASCII request", []string{"action", "search", "value", nonASCIIValue},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 47}",
		"{\"action\": \"search\", \"value\": \"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x90\xb6\"}"),
	jsonVector("search non-ASCII response", []string{"result", "No match for '" + nonASCIIValue + "'."},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 44}",
		"{\"result\": \"No match for 'caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x90\xb6'.\"}"),
	jsonVector("search controls request", []string{"action", "search", "value", controlsValue},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 56}",
		"{\"action\": \"search\", \"value\": \"a\\nb\\tc\\u0001d\\u001fe\x7ff\"}"),
	jsonVector("search controls response", []string{"result", "No match for '" + controlsValue + "'."},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 53}",
		"{\"result\": \"No match for 'a\\nb\\tc\\u0001d\\u001fe\x7ff'.\"}"),
	jsonVector("search U+2028 request", []string{"action", "search", "value", lineSepValue},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 50}",
		"{\"action\": \"search\", \"value\": \"line\xe2\x80\xa8sep\xe2\x80\xa9para\"}"),
	jsonVector("search U+2028 response", []string{"result", "No match for '" + lineSepValue + "'."},
		"\x00g{\"byteorder\": \"little\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 47}",
		"{\"result\": \"No match for 'line\xe2\x80\xa8sep\xe2\x80\xa9para'.\"}"),
	{
		name: "binary hello request", byteOrder: "little",
		typ: message.TypeClientBinary, enc: message.EncodingBinary,
		header:  "\x00\x7f{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", \"content-encoding\": \"binary\", \"content-length\": 11}",
		content: "binaryhello",
	},
	{
		name: "binary hello response", byteOrder: "little",
		typ: message.TypeServerBinary, enc: message.EncodingBinary,
		header:  "\x00\x7f{\"byteorder\": \"little\", \"content-type\": \"binary/custom-server-binary-type\", \"content-encoding\": \"binary\", \"content-length\": 37}",
		content: "First 10 bytes of request: binaryhell",
	},
	{
		name: "search morpheus request, big-endian sender", byteOrder: "big",
		typ: message.TypeJSON, enc: message.EncodingUTF8,
		kv:      []string{"action", "search", "value", "morpheus"},
		header:  "\x00d{\"byteorder\": \"big\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 41}",
		content: "{\"action\": \"search\", \"value\": \"morpheus\"}",
	},
}

// vectorByName returns the vector called name.
func vectorByName(t testing.TB, name string) vector {
	t.Helper()
	for _, v := range vectors {
		if v.name == name {
			return v
		}
	}
	t.Fatalf("no vector %q", name)
	return vector{}
}

// emptyMessage is a message with no content: the case the tutorial's
// server never answers.
var emptyMessage = message.Message{
	ByteOrder:       "little",
	ContentType:     message.TypeClientBinary,
	ContentEncoding: message.EncodingBinary,
	Content:         []byte{},
}

// encode returns m's wire bytes, failing the test if Append fails.
func encode(t testing.TB, m message.Message) []byte {
	t.Helper()
	b, err := message.Append(nil, m)
	require.NoError(t, err)
	return b
}

// frame builds a message by hand: the 2-byte length of header, header,
// then content. It is how the malformed inputs are made.
func frame(header, content string) []byte {
	b := []byte{byte(len(header) >> 8), byte(len(header))}
	return append(append(b, header...), content...)
}

// decodeAll reads messages from r with a Decoder whose MaxContent is max
// until Decode fails, and returns the messages and that error: io.EOF
// when the stream ended cleanly between two messages.
func decodeAll(r io.Reader, max int) ([]message.Message, error) {
	d := message.NewDecoder(r)
	d.MaxContent = max
	var msgs []message.Message
	for {
		m, err := d.Decode()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, m)
	}
}

// parseAll feeds pieces, in order, to a Parser whose MaxContent is max,
// then calls End. It returns the messages and the first error from Feed
// or End, or io.EOF when End returned nil, so that its result compares
// with decodeAll's.
func parseAll(max int, pieces ...[]byte) ([]message.Message, error) {
	p := &message.Parser{MaxContent: max}
	var msgs []message.Message
	for _, piece := range pieces {
		got, err := p.Feed(piece)
		msgs = append(msgs, got...)
		if err != nil {
			return msgs, err
		}
	}
	if err := p.End(); err != nil {
		return msgs, err
	}
	return msgs, io.EOF
}

// bytewise cuts b into pieces of one byte.
func bytewise(b []byte) [][]byte {
	pieces := make([][]byte, len(b))
	for i := range b {
		pieces[i] = b[i : i+1]
	}
	return pieces
}

// diffMessages is cmp.Diff(want, got) for lists of messages, quick when
// they are equal: cmp walks a []byte element by element, which takes
// seconds on a megabyte of content or in a test that compares thousands
// of times. Like cmp, it tells a nil Content from an empty one.
func diffMessages(want, got []message.Message) string {
	same := func(a, b message.Message) bool {
		return a.ByteOrder == b.ByteOrder && a.ContentType == b.ContentType &&
			a.ContentEncoding == b.ContentEncoding &&
			bytes.Equal(a.Content, b.Content) && (a.Content == nil) == (b.Content == nil)
	}
	if slices.EqualFunc(want, got, same) {
		return ""
	}
	return cmp.Diff(want, got)
}

// kind returns the sentinel among ErrHeader, ErrTooLarge and ErrTruncated
// that err wraps; any other error (io.EOF, nil, a reader's own) is
// returned as it is.
func kind(err error) error {
	for _, sentinel := range []error{message.ErrHeader, message.ErrTooLarge, message.ErrTruncated} {
		if errors.Is(err, sentinel) {
			return sentinel
		}
	}
	return err
}

// The core acceptance test: Append writes every message byte for byte as
// Python's app-client.py and app-server.py do.
func TestAppendMatchesPython(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			got, err := message.Append(nil, v.message())
			require.NoError(t, err)
			if diff := cmp.Diff(string(v.wire()), string(got)); diff != "" {
				t.Errorf("Append: -python +go\n%s", diff)
			}
		})
	}
}

// AppendObject writes JSON content as Python's json.dumps(dict,
// ensure_ascii=False) does.
func TestAppendObjectMatchesPython(t *testing.T) {
	for _, v := range vectors {
		if v.kv == nil {
			continue
		}
		t.Run(v.name, func(t *testing.T) {
			got, err := message.AppendObject(nil, v.kv...)
			require.NoError(t, err)
			if diff := cmp.Diff(v.content, string(got)); diff != "" {
				t.Errorf("AppendObject: -python +go\n%s", diff)
			}
		})
	}
}

func TestAppendStringMatchesPython(t *testing.T) {
	// want is json.dumps(s, ensure_ascii=False), generated by python3.
	tests := []struct {
		name, s, want string
	}{
		{"empty", "", `""`},
		{"plain", "morpheus", `"morpheus"`},
		{"quote and backslash", `say "hi" \ it's`, `"say \"hi\" \\ it's"`},
		{"HTML characters are not escaped", "</script>&", `"</script>&"`},
		{"a backslash-u sequence is escaped, not decoded", `\u0041`, `"\\u0041"`},
		{
			"every ASCII character: controls as \\b \\t \\n \\f \\r or \\u00xx in lower case, DEL raw",
			"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f",
			"\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f !\\\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\\\]^_`abcdefghijklmnopqrstuvwxyz{|}~\x7f\"",
		},
		{"C1 controls stay raw", "\xc2\x80\xc2\x9f\xc2\xa0", "\"\xc2\x80\xc2\x9f\xc2\xa0\""},
		{"U+2028 and U+2029 stay raw", "\xe2\x80\xa8\xe2\x80\xa9", "\"\xe2\x80\xa8\xe2\x80\xa9\""},
		{"U+FFFD and U+FFFF", "\xef\xbf\xbd\xef\xbf\xbf", "\"\xef\xbf\xbd\xef\xbf\xbf\""},
		{"U+10FFFF", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},
		{"non-ASCII", nonASCIIValue, "\"caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x90\xb6\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := message.AppendString(nil, tt.s)
			if diff := cmp.Diff(tt.want, string(got)); diff != "" {
				t.Errorf("AppendString(%q): -python +go\n%s", tt.s, diff)
			}
			var back string
			require.NoError(t, json.Unmarshal(got, &back))
			assert.Equal(t, tt.s, back, "JSON decodes back to the string")
		})
	}
}

// Proves that the Python format is not encoding/json's: with its defaults
// encoding/json escapes <, > and &, U+2028 and U+2029, which Python (and
// so AppendString) writes raw. Both decode to the same string.
func TestAppendStringIsNotEncodingJSON(t *testing.T) {
	s := "<b>&</b>\u2028\u2029\x01"
	python := "\"<b>&</b>\xe2\x80\xa8\xe2\x80\xa9\\u0001\""
	goJSON := `"\u003cb\u003e\u0026\u003c/b\u003e\u2028\u2029\u0001"`

	got := message.AppendString(nil, s)
	assert.Equal(t, python, string(got))

	std, err := json.Marshal(s)
	require.NoError(t, err)
	assert.Equal(t, goJSON, string(std), "encoding/json's defaults")
	assert.NotEqual(t, string(std), string(got))

	var a, b string
	require.NoError(t, json.Unmarshal(got, &a))
	require.NoError(t, json.Unmarshal(std, &b))
	assert.Equal(t, s, a)
	assert.Equal(t, s, b)

	// And encoding/json's compact map form has neither the spaces nor the
	// key order: {"action":"search","value":"morpheus"} against Python's.
	std, err = json.Marshal(map[string]string{"value": "morpheus", "action": "search"})
	require.NoError(t, err)
	obj, err := message.AppendObject(nil, "action", "search", "value", "morpheus")
	require.NoError(t, err)
	assert.Equal(t, `{"action":"search","value":"morpheus"}`, string(std))
	assert.Equal(t, `{"action": "search", "value": "morpheus"}`, string(obj))
}

// The Append functions append: what dst held stays in front.
func TestAppendKeepsDst(t *testing.T) {
	assert.Equal(t, `x="a\n"`, string(message.AppendString([]byte("x="), "a\n")))

	obj, err := message.AppendObject([]byte("x="), "k", "v")
	require.NoError(t, err)
	assert.Equal(t, `x={"k": "v"}`, string(obj))

	v := vectors[0]
	b, err := message.Append([]byte("x="), v.message())
	require.NoError(t, err)
	assert.Equal(t, "x="+string(v.wire()), string(b))

	// Into a buffer with room to spare, and twice in a row.
	buf := make([]byte, 0, 1024)
	buf, err = message.Append(buf, v.message())
	require.NoError(t, err)
	buf, err = message.Append(buf, vectors[1].message())
	require.NoError(t, err)
	assert.Equal(t, string(vectors[0].wire())+string(vectors[1].wire()), string(buf))
}

func TestAppendObject(t *testing.T) {
	tests := []struct {
		name string
		kv   []string
		want string
	}{
		{"no pairs", nil, "{}"},
		{"one pair", []string{"result", "ok"}, `{"result": "ok"}`},
		{"keys are escaped too", []string{"a\"b", "c"}, `{"a\"b": "c"}`},
		{"keys in the order given, duplicates kept", []string{"b", "1", "a", "2", "b", "3"}, `{"b": "1", "a": "2", "b": "3"}`},
		{"empty strings", []string{"", ""}, `{"": ""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := message.AppendObject(nil, tt.kv...)
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(got))
		})
	}
}

func TestAppendObjectInvalidUTF8(t *testing.T) {
	for _, kv := range [][]string{
		{"action", "search", "value", "caf\xe9"},
		{"act\xffion", "search"},
		{"value", "\xed\xa0\x80"}, // a UTF-16 surrogate written as UTF-8
		{"value", "\xf0\x9f\x90"}, // an emoji cut short
	} {
		dst := []byte("keep")
		got, err := message.AppendObject(dst, kv...)
		require.Error(t, err, "%q", kv)
		assert.Contains(t, err.Error(), "not valid UTF-8")
		assert.Equal(t, "keep", string(got), "dst comes back unchanged")
	}
}

func TestAppendObjectOddCountPanics(t *testing.T) {
	assert.PanicsWithValue(t, "message.AppendObject: odd number of strings", func() {
		_, _ = message.AppendObject(nil, "action")
	})
	assert.PanicsWithValue(t, "message.AppendObject: odd number of strings", func() {
		_, _ = message.AppendObject(nil, "action", "search", "value")
	})
}

// headerFor returns the length of the JSON header Append writes for a
// text/json message with the given content type and no content.
func headerFor(t *testing.T, contentType string) int {
	t.Helper()
	b := encode(t, message.Message{ByteOrder: "little", ContentType: contentType, ContentEncoding: message.EncodingUTF8})
	return len(b) - 2
}

func TestAppend(t *testing.T) {
	t.Run("empty content", func(t *testing.T) {
		want := "\x00\x7e{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", \"content-encoding\": \"binary\", \"content-length\": 0}" // Python: build_message(b"", …)
		assert.Equal(t, want, string(encode(t, emptyMessage)))
		// A nil Content is the same as an empty one.
		m := emptyMessage
		m.Content = nil
		assert.Equal(t, want, string(encode(t, m)))
	})
	t.Run("zero Message", func(t *testing.T) {
		// Append writes what it is given; it does not check the values.
		want := "\x00\x52{\"byteorder\": \"\", \"content-type\": \"\", \"content-encoding\": \"\", \"content-length\": 0}"
		assert.Equal(t, want, string(encode(t, message.Message{})))
	})
	t.Run("header fields are escaped", func(t *testing.T) {
		m := message.Message{ByteOrder: "little", ContentType: "a\"b\\c\n<é>", ContentEncoding: "utf-8"}
		want := "{\"byteorder\": \"little\", \"content-type\": \"a\\\"b\\\\c\\n<\xc3\xa9>\", \"content-encoding\": \"utf-8\", \"content-length\": 0}"
		got := encode(t, m)
		assert.Equal(t, want, string(got[2:]))
		assert.Equal(t, len(want), int(got[0])<<8|int(got[1]), "the 2-byte length counts bytes, not characters")
	})
	t.Run("content of 100000 bytes", func(t *testing.T) {
		m := emptyMessage
		m.Content = bytes.Repeat([]byte{0, 0xff}, 50000)
		got := encode(t, m)
		header := "{\"byteorder\": \"little\", \"content-type\": \"binary/custom-client-binary-type\", \"content-encoding\": \"binary\", \"content-length\": 100000}"
		require.Len(t, got, 2+len(header)+100000)
		assert.Equal(t, "\x00\x83"+header, string(got[:2+len(header)]))
		assert.Equal(t, m.Content, got[2+len(header):])
	})
	t.Run("header of exactly MaxHeaderLen bytes", func(t *testing.T) {
		ct := strings.Repeat("a", message.MaxHeaderLen-headerFor(t, ""))
		m := message.Message{ByteOrder: "little", ContentType: ct, ContentEncoding: message.EncodingUTF8}
		got := encode(t, m)
		require.Len(t, got, 2+message.MaxHeaderLen)
		assert.Equal(t, "\xff\xff", string(got[:2]))

		// Both readers take it back.
		msgs, err := decodeAll(bytes.NewReader(got), 0)
		assert.ErrorIs(t, err, io.EOF)
		m.Content = []byte{}
		assert.Empty(t, diffMessages([]message.Message{m}, msgs))
		msgs, err = parseAll(0, got)
		assert.ErrorIs(t, err, io.EOF)
		assert.Empty(t, diffMessages([]message.Message{m}, msgs))
	})
}

func TestAppendErrors(t *testing.T) {
	long := strings.Repeat("x", 70000)
	tests := []struct {
		name string
		m    message.Message
		text string
	}{
		{"content type of 70000 bytes", message.Message{ByteOrder: "little", ContentType: long, ContentEncoding: "utf-8"}, "more than the 65535 that fit"},
		{"header one byte too long", message.Message{ByteOrder: "little", ContentType: strings.Repeat("a", message.MaxHeaderLen+1-(103-len("text/json")-len("41")+len("0"))), ContentEncoding: "utf-8"}, "65536 bytes, more than the 65535"},
		{"byteorder not UTF-8", message.Message{ByteOrder: "lit\xfftle", ContentType: "text/json", ContentEncoding: "utf-8"}, "not valid UTF-8"},
		{"content-type not UTF-8", message.Message{ByteOrder: "little", ContentType: "text/\xc3", ContentEncoding: "utf-8"}, "not valid UTF-8"},
		{"content-encoding not UTF-8", message.Message{ByteOrder: "little", ContentType: "text/json", ContentEncoding: "\x80utf-8"}, "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, dst := range [][]byte{nil, []byte("keep"), append(make([]byte, 0, 1<<17), "keep"...)} {
				before := string(dst)
				got, err := message.Append(dst, tt.m)
				require.ErrorIs(t, err, message.ErrHeader)
				assert.Contains(t, err.Error(), tt.text)
				assert.Equal(t, before, string(got), "dst comes back as it was")
			}
		})
	}
}

// callWriter records each Write call separately.
type callWriter struct {
	calls [][]byte
	err   error // returned by every Write
}

func (w *callWriter) Write(p []byte) (int, error) {
	w.calls = append(w.calls, bytes.Clone(p))
	if w.err != nil {
		return 0, w.err
	}
	return len(p), nil
}

// Write sends a message in a single Write call, so that a message is
// never split into several segments by the writer itself.
func TestWrite(t *testing.T) {
	for _, v := range vectors {
		var w callWriter
		require.NoError(t, message.Write(&w, v.message()))
		require.Len(t, w.calls, 1, v.name)
		assert.Equal(t, string(v.wire()), string(w.calls[0]), v.name)
	}

	t.Run("a bad message is not written at all", func(t *testing.T) {
		var w callWriter
		err := message.Write(&w, message.Message{ByteOrder: "\xff"})
		assert.ErrorIs(t, err, message.ErrHeader)
		assert.Empty(t, w.calls)
	})
	t.Run("the writer's error is returned", func(t *testing.T) {
		errBroken := errors.New("broken pipe")
		w := callWriter{err: errBroken}
		err := message.Write(&w, vectors[0].message())
		assert.ErrorIs(t, err, errBroken)
		assert.Len(t, w.calls, 1)
	})
}

func TestNativeByteOrder(t *testing.T) {
	x := uint16(1)
	want := "big"
	if *(*byte)(unsafe.Pointer(&x)) == 1 {
		want = "little"
	}
	assert.Equal(t, want, message.NativeByteOrder())
}

func TestConstants(t *testing.T) {
	assert.Equal(t, 65535, message.MaxHeaderLen, "the largest 2-byte length")
	assert.Equal(t, 1<<20, message.DefaultMaxContent, "1 MiB")
	assert.Equal(t, "text/json", message.TypeJSON)
	assert.Equal(t, "binary/custom-client-binary-type", message.TypeClientBinary)
	assert.Equal(t, "binary/custom-server-binary-type", message.TypeServerBinary)
	assert.Equal(t, "utf-8", message.EncodingUTF8)
	assert.Equal(t, "binary", message.EncodingBinary)
}
