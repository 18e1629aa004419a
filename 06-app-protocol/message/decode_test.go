package message_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/06-app-protocol/message"
)

// header is a canonical JSON header with the given content-length written
// as it is, for the malformed inputs.
func header(length string) string {
	return `{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": ` + length + `}`
}

// strictReader serves data and nothing more: read again, it fails the test
// and returns errReadPast. A Decoder that reads from it proves it decided
// without reading past data, that is, without waiting for bytes a real
// peer might never send.
type strictReader struct {
	t    *testing.T
	data []byte
}

var errReadPast = errors.New("read past the end of the test's data")

func (r *strictReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		r.t.Error("the Decoder read past the bytes it needed to decide")
		return 0, errReadPast
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// failingReader serves data, then fails every Read with err.
type failingReader struct {
	data []byte
	err  error
}

func (r *failingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, r.err
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// concat returns the wire bytes of msgs, back to back.
func concat(t testing.TB, msgs ...message.Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		b, err = message.Append(b, m)
		require.NoError(t, err)
	}
	return b
}

// allVectors returns every vector's message and all their bytes back to
// back.
func allVectors() ([]message.Message, []byte) {
	var msgs []message.Message
	var b []byte
	for _, v := range vectors {
		msgs = append(msgs, v.message())
		b = append(b, v.wire()...)
	}
	return msgs, b
}

// Python's bytes decode back to the Message they encode, with both
// readers; after the message the stream ends cleanly.
func TestDecodePythonVectors(t *testing.T) {
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			want := []message.Message{v.message()}

			msgs, err := decodeAll(bytes.NewReader(v.wire()), 0)
			assert.Equal(t, io.EOF, err, "Decoder: a clean end is io.EOF itself")
			assert.Empty(t, diffMessages(want, msgs), "Decoder")

			var p message.Parser
			msgs, err = p.Feed(v.wire())
			require.NoError(t, err)
			assert.Empty(t, diffMessages(want, msgs), "Parser")
			assert.Zero(t, p.Pending())
			assert.NoError(t, p.End())
		})
	}
}

// Several messages back to back, as a connection that carries many
// requests delivers them.
func TestDecodeStream(t *testing.T) {
	want, stream := allVectors()
	want = append(want, emptyMessage, want[0])
	stream = append(stream, concat(t, emptyMessage, want[0])...)

	assertBothDecode(t, stream, want)
}

// assertBothDecode checks that the Decoder and the Parser each find want
// in stream, and then a clean end.
func assertBothDecode(t *testing.T, stream []byte, want []message.Message) {
	t.Helper()
	msgs, err := decodeAll(bytes.NewReader(stream), 0)
	assert.Equal(t, io.EOF, err)
	assert.Empty(t, diffMessages(want, msgs), "Decoder")

	msgs, err = parseAll(0, stream)
	assert.Equal(t, io.EOF, err)
	assert.Empty(t, diffMessages(want, msgs), "Parser")
}

// Whatever pieces a stream arrives in, both readers find the same
// messages: TCP keeps no message boundaries.
func TestSplitAtEveryByte(t *testing.T) {
	all, allStream := allVectors()
	morpheus := vectorByName(t, "search morpheus request").message()
	answer := vectorByName(t, "search morpheus response").message()
	type stream struct {
		name string
		msgs []message.Message
		long bool // too long to cut in two at every byte (slow under -race)
	}
	streams := []stream{
		{"three messages, the middle one empty", []message.Message{morpheus, emptyMessage, answer}, false},
		{"an empty message alone", []message.Message{emptyMessage}, false},
		{"empty messages only", []message.Message{emptyMessage, emptyMessage, emptyMessage}, false},
		{"every vector", all, true},
	}
	for _, v := range vectors[1:] { // the first is in the first stream
		streams = append(streams, stream{v.name + ", an empty message, " + v.name, []message.Message{v.message(), emptyMessage, v.message()}, false})
	}
	for _, s := range streams {
		t.Run(s.name, func(t *testing.T) {
			stream := concat(t, s.msgs...)
			if s.name == "every vector" {
				require.Equal(t, allStream, stream)
			}
			// boundary[i] reports whether i bytes of stream end a message.
			boundary := map[int]bool{0: true}
			end := 0
			for _, m := range s.msgs {
				end += len(encode(t, m))
				boundary[end] = true
			}
			require.Equal(t, len(stream), end)

			if !s.long { // each vector is cut at every byte in a stream of its own
				t.Run("Parser, two pieces", func(t *testing.T) {
					for i := 0; i <= len(stream); i++ {
						msgs, err := parseAll(0, stream[:i], stream[i:])
						require.Equal(t, io.EOF, err, "cut at %d", i)
						require.Empty(t, diffMessages(s.msgs, msgs), "cut at %d", i)
					}
				})
			}
			t.Run("Parser, one byte per Feed", func(t *testing.T) {
				var p message.Parser
				var msgs []message.Message
				last := 0 // the last boundary reached
				for i := range stream {
					got, err := p.Feed(stream[i : i+1])
					require.NoError(t, err)
					msgs = append(msgs, got...)
					if boundary[i+1] {
						last = i + 1
						require.Len(t, got, 1, "byte %d ends a message", i)
					} else {
						require.Empty(t, got, "byte %d", i)
					}
					// Pending is zero exactly at a boundary, and else
					// counts the bytes of the message so far.
					require.Equal(t, i+1-last, p.Pending(), "after byte %d", i)
				}
				require.NoError(t, p.End())
				require.Empty(t, diffMessages(s.msgs, msgs))
			})
			readers := []struct {
				name string
				r    func([]byte) io.Reader
			}{
				{"all at once", func(b []byte) io.Reader { return bytes.NewReader(b) }},
				{"iotest.OneByteReader", func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) }},
				{"iotest.HalfReader", func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) }},
				{"iotest.DataErrReader", func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) }},
				{"OneByteReader and DataErrReader", func(b []byte) io.Reader {
					return iotest.DataErrReader(iotest.OneByteReader(bytes.NewReader(b)))
				}},
			}
			for _, r := range readers {
				t.Run("Decoder, "+r.name, func(t *testing.T) {
					msgs, err := decodeAll(r.r(stream), 0)
					require.Equal(t, io.EOF, err)
					require.Empty(t, diffMessages(s.msgs, msgs))
				})
			}
		})
	}
}

// A stream that stops anywhere but between two messages is truncated,
// and both readers say in which part it stopped.
func TestTruncatedAtEveryByte(t *testing.T) {
	for _, m := range []message.Message{vectors[0].message(), emptyMessage} {
		wire := encode(t, m)
		hdrEnd := 2 + (int(wire[0])<<8 | int(wire[1]))
		for i := 0; i <= len(wire); i++ {
			var p message.Parser
			got, err := p.Feed(wire[:i])
			require.NoError(t, err)
			dmsgs, derr := decodeAll(bytes.NewReader(wire[:i]), 0)
			if i == 0 || i == len(wire) {
				assert.Zero(t, p.Pending(), "cut at %d", i)
				assert.NoError(t, p.End(), "cut at %d: End at a boundary", i)
				assert.Equal(t, io.EOF, derr, "cut at %d", i)
				assert.Len(t, got, i/len(wire))
				assert.Len(t, dmsgs, i/len(wire))
				continue
			}
			where := "in the content"
			switch {
			case i < 2:
				where = "in the 2-byte header length"
			case i < hdrEnd:
				where = "in the JSON header"
			}
			assert.Empty(t, got)
			assert.Equal(t, i, p.Pending(), "cut at %d", i)
			perr := p.End()
			require.ErrorIs(t, perr, message.ErrTruncated, "cut at %d", i)
			assert.Contains(t, perr.Error(), where, "cut at %d", i)
			assert.Empty(t, dmsgs)
			require.ErrorIs(t, derr, message.ErrTruncated, "cut at %d", i)
			assert.Contains(t, derr.Error(), where, "cut at %d", i)
			assert.NotErrorIs(t, derr, io.EOF, "cut at %d: a truncation is not a clean end", i)
		}
	}
}

func TestTruncatedMessageSaysHowMuchArrived(t *testing.T) {
	wire := vectors[0].wire() // 2 + 103 + 41
	tests := []struct {
		cut  int
		text string
	}{
		{1, "ended in the 2-byte header length, after 1 of 2 bytes"},
		{2 + 50, "ended in the JSON header, after 50 of 103 bytes"},
		{2 + 103 + 40, "ended in the content, after 40 of 41 bytes"},
	}
	for _, tt := range tests {
		_, err := decodeAll(bytes.NewReader(wire[:tt.cut]), 0)
		assert.ErrorContains(t, err, tt.text, "Decoder")
		_, err = parseAll(0, wire[:tt.cut])
		assert.ErrorContains(t, err, tt.text, "Parser")
	}
}

// A malformed input: both readers must refuse it, with the same sentinel.
type malformed struct {
	name   string
	input  []byte
	max    int    // MaxContent; 0 for the default
	before int    // good messages before the bad bytes
	want   error  // the sentinel
	text   string // in the error's text
}

// malformedInputs is every kind of bad stream, each in a row of its own.
// The fuzz test uses it as seed corpus too.
func malformedInputs() []malformed {
	var rows []malformed
	add := func(name string, input []byte, want error, text string) {
		rows = append(rows, malformed{name: name, input: input, want: want, text: text})
	}
	replace := func(old, new string) []byte {
		h := strings.Replace(header("0"), old, new, 1)
		return frame(h, "")
	}

	add("zero header length", []byte("\x00\x00{}"), message.ErrHeader, "empty")
	add("zero header length alone", []byte("\x00\x00"), message.ErrHeader, "empty")
	for _, e := range earlyRejections {
		add(e.name, []byte(e.input), message.ErrHeader, e.text)
	}

	add("header not valid UTF-8", frame("{\"byteorder\": \"lit\xfftle\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 0}", ""), message.ErrHeader, "not valid UTF-8")
	add("header not valid UTF-8 in an unknown key", frame(strings.Replace(header("0"), "{", "{\"\xc3\": 1, ", 1), ""), message.ErrHeader, "not valid UTF-8")
	add("header not JSON: bare words", frame(`{byteorder: little}`, ""), message.ErrHeader, "invalid character")
	add("header not JSON: a lone brace", frame(`{`, ""), message.ErrHeader, "bad JSON header")
	add("header not JSON: unterminated", frame(strings.TrimSuffix(header("0"), "}"), ""), message.ErrHeader, "bad JSON header")
	add("header not JSON: trailing comma", frame(strings.Replace(header("0"), "}", ",}", 1), ""), message.ErrHeader, "invalid character")
	add("header not JSON: single quotes", frame(`{'byteorder': 'little'}`, ""), message.ErrHeader, "invalid character")
	add("header not JSON: missing colon", frame(`{"byteorder" "little"}`, ""), message.ErrHeader, "bad JSON header")
	add("header not JSON: NaN", frame(`{"x": NaN}`, ""), message.ErrHeader, "invalid character")
	add("header not JSON: raw newline in a string", frame("{\"byteorder\": \"lit\ntle\"}", ""), message.ErrHeader, "invalid character")
	add("header is an array", frame(`[1]`, ""), message.ErrHeader, "starts with")
	add("header is a string", frame(`"little"`, ""), message.ErrHeader, "starts with")
	add("header is a number", frame(`41`, ""), message.ErrHeader, "starts with")
	add("header is null", frame(`null`, ""), message.ErrHeader, "starts with")
	add("header starts with a space", frame(" "+header("0"), ""), message.ErrHeader, "starts with")
	add("trailing data after the object", frame(header("0")+"x", ""), message.ErrHeader, "more after the JSON object")
	add("a second object after the object", frame(header("0")+"{}", ""), message.ErrHeader, "more after the JSON object")
	add("empty object", frame(`{}`, ""), message.ErrHeader, `"byteorder" is missing`)

	full := []struct{ key, value string }{
		{"byteorder", `"little"`}, {"content-type", `"text/json"`},
		{"content-encoding", `"utf-8"`}, {"content-length", `0`},
	}
	for i, f := range full {
		var without, twice []string
		for j, g := range full {
			if j != i {
				without = append(without, strconv.Quote(g.key)+": "+g.value)
			}
			twice = append(twice, strconv.Quote(g.key)+": "+g.value)
		}
		twice = append(twice, strconv.Quote(f.key)+": "+f.value)
		add("missing "+f.key, frame("{"+strings.Join(without, ", ")+"}", ""), message.ErrHeader, strconv.Quote(f.key)+" is missing")
		add("duplicate "+f.key, frame("{"+strings.Join(twice, ", ")+"}", ""), message.ErrHeader, strconv.Quote(f.key)+" appears twice")
	}
	add("keys are case-sensitive", replace(`"byteorder"`, `"Byteorder"`), message.ErrHeader, `"byteorder" is missing`)

	add("byteorder 1", replace(`"little"`, `1`), message.ErrHeader, `"byteorder" is a number, want a string`)
	add("byteorder true", replace(`"little"`, `true`), message.ErrHeader, `"byteorder" is true or false, want a string`)
	add("byteorder middle", replace(`"little"`, `"middle"`), message.ErrHeader, `"byteorder" is "middle", want "little" or "big"`)
	add("byteorder Little", replace(`"little"`, `"Little"`), message.ErrHeader, `want "little" or "big"`)
	add("content-type null", replace(`"text/json"`, `null`), message.ErrHeader, `"content-type" is null, want a string`)
	add("content-type object", replace(`"text/json"`, `{"a": "b"}`), message.ErrHeader, `"content-type" is an object, want a string`)
	add(`content-encoding ["utf-8"]`, replace(`"utf-8"`, `["utf-8"]`), message.ErrHeader, `"content-encoding" is an array, want a string`)
	for _, enc := range []string{"utf-16", "gzip", "", "UTF-8", "utf8"} {
		add("content-encoding "+strconv.Quote(enc), replace(`"utf-8"`, strconv.Quote(enc)), message.ErrHeader, `"content-encoding" `+strconv.Quote(enc)+` is not one this protocol knows`)
	}
	for _, l := range []struct{ value, text string }{
		{`"41"`, `"content-length" is a string, want a number`},
		{`true`, `"content-length" is true or false, want a number`},
		{`null`, `"content-length" is null, want a number`},
		{`[41]`, `"content-length" is an array, want a number`},
		{`41.0`, `content-length 41.0 is not a whole number of bytes`},
		{`4.1e1`, `content-length 4.1e1 is not a whole number of bytes`},
		{`41e0`, `content-length 41e0 is not a whole number of bytes`},
		{`-1`, `content-length -1 is not a whole number of bytes`},
		{`-0`, `content-length -0 is not a whole number of bytes`},
		{`1e400`, `content-length 1e400 is not a whole number of bytes`},
	} {
		add("content-length "+l.value, frame(header(l.value), ""), message.ErrHeader, l.text)
	}
	add("content-length 01", frame(header("01"), ""), message.ErrHeader, "bad JSON header")
	add("content-length 99999999999999999999999", frame(header("99999999999999999999999"), ""), message.ErrTooLarge, "content-length 99999999999999999999999 is more than the limit of 1048576 bytes")
	add("content-length 2^63", frame(header("9223372036854775808"), ""), message.ErrTooLarge, "more than the limit")
	add("content-length 2^63-1", frame(header("9223372036854775807"), ""), message.ErrTooLarge, "more than the limit")
	add("content-length DefaultMaxContent+1", frame(header(strconv.Itoa(message.DefaultMaxContent+1)), ""), message.ErrTooLarge, "content-length 1048577 is more than the limit of 1048576 bytes")
	rows = append(rows, malformed{
		name: "content-length 11 with MaxContent 10", input: frame(header("11"), "0123456789a"),
		max: 10, want: message.ErrTooLarge, text: "content-length 11 is more than the limit of 10 bytes",
	})

	wire := vectors[0].wire()
	add("truncated in the prefix", wire[:1], message.ErrTruncated, "in the 2-byte header length")
	add("truncated in the header", wire[:2+1], message.ErrTruncated, "in the JSON header")
	add("truncated at the end of the header", wire[:2+102], message.ErrTruncated, "in the JSON header")
	add("truncated in the content", wire[:2+103+1], message.ErrTruncated, "in the content")
	add("truncated before the last content byte", wire[:len(wire)-1], message.ErrTruncated, "after 40 of 41 bytes")
	add("truncated in the second message", append(bytes.Clone(wire), wire[:50]...), message.ErrTruncated, "in the JSON header")
	rows[len(rows)-1].before = 1
	add("a whole message, then a bad one", append(bytes.Clone(wire), "\x00\x00"...), message.ErrHeader, "empty")
	rows[len(rows)-1].before = 1
	return rows
}

// earlyRejections are streams from a peer that does not speak this
// protocol. Their first two bytes announce a long header (18245 bytes for
// "GE"), but the third is not '{': both readers must fail on it rather
// than wait for the rest.
var earlyRejections = []struct{ name, input, text string }{
	{"an HTTP request", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", `starts with 'T'`},
	{"a TLS ClientHello", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", `starts with byte 0x01`},
	{"an SSH banner", "SSH-2.0-OpenSSH_9.6\r\n", `starts with 'H'`},
	{"random garbage", "\xde\xad\xbe\xef\x00\x01\x02\x03", `starts with byte 0xbe`},
	{"a prefix of 1 and no brace", "\x00\x01x", `starts with 'x'`},
}

// Every malformed input, run through both readers: the same sentinel, a
// useful text, no message.
func TestMalformed(t *testing.T) {
	for _, tt := range malformedInputs() {
		t.Run(tt.name, func(t *testing.T) {
			dmsgs, derr := decodeAll(bytes.NewReader(tt.input), tt.max)
			require.ErrorIs(t, derr, tt.want, "Decoder")
			assert.Contains(t, derr.Error(), tt.text, "Decoder")
			assert.Len(t, dmsgs, tt.before, "Decoder")

			pmsgs, perr := parseAll(tt.max, tt.input)
			require.ErrorIs(t, perr, tt.want, "Parser")
			assert.Contains(t, perr.Error(), tt.text, "Parser")
			assert.Len(t, pmsgs, tt.before, "Parser")
			assert.Equal(t, kind(derr), kind(perr), "the same sentinel")

			// Byte by byte, the Parser fails the same way.
			pmsgs, perr = parseAll(tt.max, bytewise(tt.input)...)
			require.ErrorIs(t, perr, tt.want, "Parser, one byte per Feed")
			assert.Contains(t, perr.Error(), tt.text, "Parser, one byte per Feed")
			assert.Len(t, pmsgs, tt.before, "Parser, one byte per Feed")

			// Only the sentinel wanted: no bad header is "too large", no
			// truncation a bad header.
			for _, other := range []error{message.ErrHeader, message.ErrTooLarge, message.ErrTruncated} {
				if other != tt.want {
					assert.NotErrorIs(t, derr, other)
					assert.NotErrorIs(t, perr, other)
				}
			}
		})
	}
}

// A peer that speaks another protocol is refused after at most 3 bytes:
// the Parser fails on a Feed of just those, and the Decoder fails reading
// from a reader that holds only those (strictReader fails the test if
// the Decoder reads again, where a real connection would hang).
func TestEarlyRejection(t *testing.T) {
	for _, e := range earlyRejections {
		t.Run(e.name, func(t *testing.T) {
			first3 := []byte(e.input[:3])

			var p message.Parser
			msgs, err := p.Feed(first3)
			require.ErrorIs(t, err, message.ErrHeader, "Parser")
			assert.Contains(t, err.Error(), e.text)
			assert.Contains(t, err.Error(), "not this protocol")
			assert.Empty(t, msgs)

			d := message.NewDecoder(&strictReader{t: t, data: first3})
			_, err = d.Decode()
			require.ErrorIs(t, err, message.ErrHeader, "Decoder")
			assert.Contains(t, err.Error(), e.text)
		})
	}
}

// An oversized content-length is refused as soon as the header is in:
// the Decoder does not read the content (the reader holds only the prefix
// and the header, and fails the test if read past them), and the Parser
// fails on the Feed that completes the header.
func TestTooLargeRefusedBeforeContent(t *testing.T) {
	tests := []struct {
		name   string
		max    int
		length int
	}{
		{"DefaultMaxContent+1", 0, message.DefaultMaxContent + 1},
		{"MaxContent 10, content-length 11", 10, 11},
		{"1 GiB", 0, 1 << 30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			head := frame(header(strconv.Itoa(tt.length)), "")

			d := message.NewDecoder(&strictReader{t: t, data: head})
			d.MaxContent = tt.max
			_, err := d.Decode()
			require.ErrorIs(t, err, message.ErrTooLarge, "Decoder")
			assert.Contains(t, err.Error(), fmt.Sprintf("content-length %d is more than the limit", tt.length))

			p := message.Parser{MaxContent: tt.max}
			msgs, err := p.Feed(head[:len(head)-1])
			require.NoError(t, err, "the header is not complete yet")
			assert.Empty(t, msgs)
			_, err = p.Feed(head[len(head)-1:])
			require.ErrorIs(t, err, message.ErrTooLarge, "Parser, on the Feed that completes the header")

			// Also when that Feed brings content bytes with it.
			p = message.Parser{MaxContent: tt.max}
			_, err = p.Feed(append(bytes.Clone(head), "content"...))
			require.ErrorIs(t, err, message.ErrTooLarge, "Parser, header and content in one Feed")
		})
	}
}

// MaxContent is an inclusive limit; zero or less means DefaultMaxContent.
func TestMaxContent(t *testing.T) {
	tests := []struct {
		name    string
		max     int
		length  int
		tooLong bool
	}{
		{"10 of 10", 10, 10, false},
		{"11 of 10", 10, 11, true},
		{"0 of 1", 1, 0, false},
		{"1 of 1", 1, 1, false},
		{"2 of 1", 1, 2, true},
		{"DefaultMaxContent with MaxContent 0", 0, message.DefaultMaxContent, false},
		{"DefaultMaxContent+1 with MaxContent 0", 0, message.DefaultMaxContent + 1, true},
		{"DefaultMaxContent with MaxContent -1", -1, message.DefaultMaxContent, false},
		{"DefaultMaxContent+1 with MaxContent -1", -1, message.DefaultMaxContent + 1, true},
		{"2 MiB with MaxContent 2 MiB", 2 << 20, 2 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := emptyMessage
			m.Content = bytes.Repeat([]byte{'x'}, tt.length)
			wire := encode(t, m)

			dmsgs, derr := decodeAll(bytes.NewReader(wire), tt.max)
			pmsgs, perr := parseAll(tt.max, wire)
			if tt.tooLong {
				assert.ErrorIs(t, derr, message.ErrTooLarge)
				assert.ErrorIs(t, perr, message.ErrTooLarge)
				return
			}
			assert.Equal(t, io.EOF, derr)
			assert.Equal(t, io.EOF, perr)
			assert.Empty(t, diffMessages([]message.Message{m}, dmsgs))
			assert.Empty(t, diffMessages([]message.Message{m}, pmsgs))
		})
	}
}

// Headers that are not what Python writes but are what the protocol
// allows: another key order, extra keys (a later version may add some),
// escapes, whitespace.
func TestHeaderVariantsAccepted(t *testing.T) {
	little := func(typ, enc, content string) message.Message {
		return message.Message{ByteOrder: "little", ContentType: typ, ContentEncoding: enc, Content: []byte(content)}
	}
	tests := []struct {
		name    string
		header  string
		content string
		want    message.Message
	}{
		{
			"keys in another order",
			`{"content-length": 2, "content-encoding": "utf-8", "content-type": "text/json", "byteorder": "big"}`, "{}",
			message.Message{ByteOrder: "big", ContentType: "text/json", ContentEncoding: "utf-8", Content: []byte("{}")},
		},
		{
			"compact, as encoding/json writes it",
			`{"byteorder":"little","content-type":"text/json","content-encoding":"utf-8","content-length":2}`, "{}",
			little("text/json", "utf-8", "{}"),
		},
		{
			"whitespace everywhere",
			"{ \"byteorder\" :\r\n\"little\" , \"content-type\":\"text/json\",\"content-encoding\":\"utf-8\",\"content-length\":0 } \n", "",
			little("text/json", "utf-8", ""),
		},
		{
			"extra keys, with nested values that reuse the known names",
			`{"byteorder": "little", "x-extra": {"content-length": 99, "byteorder": ["a", {"b": null}]}, "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2, "x-list": [1, 2.5, true, null, "s"], "x-num": 1e400}`, "{}",
			little("text/json", "utf-8", "{}"),
		},
		{
			"escapes in keys and values",
			`{"byte\u006frder": "\u006cittle", "content-type": "text\/json\u00e9", "content-encoding": "\u0075tf-8", "content-length": 0}`, "",
			little("text/json\u00e9", "utf-8", ""),
		},
		{
			"any content type, even an empty one",
			`{"byteorder": "little", "content-type": "", "content-encoding": "binary", "content-length": 3}`, "\x00\x01\xff",
			little("", "binary", "\x00\x01\xff"),
		},
		{
			"text/json with binary encoding",
			`{"byteorder": "little", "content-type": "text/json", "content-encoding": "binary", "content-length": 1}`, "\xff",
			little("text/json", "binary", "\xff"),
		},
		{
			"non-ASCII content type",
			"{\"byteorder\": \"little\", \"content-type\": \"\xf0\x9f\x90\xb6/\xe4\xb8\xad\", \"content-encoding\": \"utf-8\", \"content-length\": 0}", "",
			little("\U0001F436/\u4e2d", "utf-8", ""),
		},
		{
			"a lone surrogate escape becomes U+FFFD",
			`{"byteorder": "little", "content-type": "\ud800", "content-encoding": "utf-8", "content-length": 0}`, "",
			little("\ufffd", "utf-8", ""),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wire := frame(tt.header, tt.content)
			// Twice, to see that the next message is read from the right place.
			stream := append(bytes.Clone(wire), wire...)
			assertBothDecode(t, stream, []message.Message{tt.want, tt.want})
		})
	}
}

// After an error a Parser is stuck: every later Feed and End returns that
// same error, and nothing more is decoded.
func TestParserErrorIsSticky(t *testing.T) {
	good := vectors[0].wire()
	t.Run("after a bad header", func(t *testing.T) {
		var p message.Parser
		_, err := p.Feed([]byte("GET / HTTP/1.1\r\n"))
		require.ErrorIs(t, err, message.ErrHeader)
		for range 3 {
			msgs, err2 := p.Feed(good)
			assert.Same(t, err, err2)
			assert.Empty(t, msgs)
		}
		assert.Same(t, err, p.End())
		msgs, err2 := p.Feed(nil)
		assert.Same(t, err, err2)
		assert.Empty(t, msgs)
	})
	t.Run("after End in a message", func(t *testing.T) {
		var p message.Parser
		_, err := p.Feed(good[:10])
		require.NoError(t, err)
		err = p.End()
		require.ErrorIs(t, err, message.ErrTruncated)
		msgs, err2 := p.Feed(good[10:])
		assert.Same(t, err, err2)
		assert.Empty(t, msgs)
		assert.Same(t, err, p.End())
	})
	t.Run("after too large", func(t *testing.T) {
		p := message.Parser{MaxContent: 1}
		_, err := p.Feed(good)
		require.ErrorIs(t, err, message.ErrTooLarge)
		assert.Same(t, err, p.End())
	})
}

// End at a boundary does not break the Parser: it may go on.
func TestParserEndBetweenMessages(t *testing.T) {
	var p message.Parser
	require.NoError(t, p.End(), "before any byte")
	msgs, err := p.Feed(vectors[0].wire())
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.NoError(t, p.End())
	msgs, err = p.Feed(vectors[1].wire())
	require.NoError(t, err)
	assert.Empty(t, diffMessages([]message.Message{vectors[1].message()}, msgs))
}

// The messages a Feed completes before bad bytes come back with the error.
func TestParserReturnsMessagesBeforeError(t *testing.T) {
	stream := append(concat(t, vectors[0].message(), emptyMessage), "\x00\x05hello"...)
	var p message.Parser
	msgs, err := p.Feed(stream)
	require.ErrorIs(t, err, message.ErrHeader)
	assert.Empty(t, diffMessages([]message.Message{vectors[0].message(), emptyMessage}, msgs))
}

// Feed copies what it keeps: the caller may reuse its buffer, as a read
// loop does, without changing a message in progress or one returned.
func TestParserDoesNotKeepInput(t *testing.T) {
	wire := append(vectors[0].wire(), vectors[1].wire()...)
	buf := bytes.Clone(wire)
	cut := len(vectors[0].wire()) + 120 // inside the second message's content

	var p message.Parser
	first, err := p.Feed(buf[:cut])
	require.NoError(t, err)
	require.Len(t, first, 1)
	for i := range buf[:cut] {
		buf[i] = 'X' // the read loop's next Read overwrites its buffer
	}
	second, err := p.Feed(buf[cut:])
	require.NoError(t, err)
	assert.Empty(t, diffMessages([]message.Message{vectors[0].message()}, first))
	assert.Empty(t, diffMessages([]message.Message{vectors[1].message()}, second))
}

func TestParserEmptyFeeds(t *testing.T) {
	var p message.Parser
	for _, b := range [][]byte{nil, {}} {
		msgs, err := p.Feed(b)
		assert.NoError(t, err)
		assert.Empty(t, msgs)
		assert.Zero(t, p.Pending())
	}
	_, err := p.Feed(vectors[0].wire()[:5])
	require.NoError(t, err)
	msgs, err := p.Feed(nil)
	assert.NoError(t, err)
	assert.Empty(t, msgs)
	assert.Equal(t, 5, p.Pending(), "an empty Feed changes nothing")
}

// Decode returns io.EOF itself at a clean end, and again if called again.
func TestDecoderCleanEOF(t *testing.T) {
	d := message.NewDecoder(bytes.NewReader(nil))
	for range 2 {
		_, err := d.Decode()
		assert.Equal(t, io.EOF, err, "empty stream")
	}

	d = message.NewDecoder(bytes.NewReader(vectors[0].wire()))
	m, err := d.Decode()
	require.NoError(t, err)
	assert.Empty(t, diffMessages([]message.Message{vectors[0].message()}, []message.Message{m}))
	for range 2 {
		_, err := d.Decode()
		assert.Equal(t, io.EOF, err, "after a message")
	}
}

// A read error that is not the end of the stream (here a deadline) is
// returned wrapped, wherever it happens: errors.Is finds it, and it is
// not reported as a truncated message or as a clean end.
func TestDecoderReadError(t *testing.T) {
	wire := vectors[0].wire()
	for _, cut := range []int{0, 1, 2, 3, 50, 2 + 103, len(wire) - 1, len(wire)} {
		t.Run(fmt.Sprintf("after %d bytes", cut), func(t *testing.T) {
			d := message.NewDecoder(&failingReader{data: wire[:cut], err: os.ErrDeadlineExceeded})
			if cut == len(wire) {
				m, err := d.Decode()
				require.NoError(t, err)
				assert.Empty(t, diffMessages([]message.Message{vectors[0].message()}, []message.Message{m}))
			}
			_, err := d.Decode()
			require.ErrorIs(t, err, os.ErrDeadlineExceeded)
			assert.NotErrorIs(t, err, message.ErrTruncated)
			assert.NotErrorIs(t, err, io.EOF)
			assert.NotErrorIs(t, err, message.ErrHeader)
		})
	}
}

func TestDecodeStrings(t *testing.T) {
	tests := []struct {
		name    string
		content string
		want    map[string]string
		text    string // when the content is refused, in the error
	}{
		{"request", `{"action": "search", "value": "morpheus"}`, map[string]string{"action": "search", "value": "morpheus"}, ""},
		{"response", "{\"result\": \"Follow the white rabbit. \xf0\x9f\x90\xb0\"}", map[string]string{"result": "Follow the white rabbit. \U0001F430"}, ""},
		{"escapes", `{"a\u00e9": "\ud83d\udc36\n\"\\\/"}`, map[string]string{"a\u00e9": "\U0001F436\n\"\\/"}, ""},
		{"compact, with whitespace around", " \n{\"a\":\"b\",\"c\":\"\"}\t ", map[string]string{"a": "b", "c": ""}, ""},
		{"empty object", `{}`, map[string]string{}, ""},
		{"every vector's quirks", vectorByName(t, "search controls request").content, map[string]string{"action": "search", "value": controlsValue}, ""},

		{"invalid UTF-8", "{\"value\": \"caf\xe9\"}", nil, "not valid UTF-8"},
		{"invalid UTF-8 in a key", "{\"\xff\": \"x\"}", nil, "not valid UTF-8"},
		{"empty", ``, nil, "JSON content"},
		{"not JSON", `action=search`, nil, "JSON content"},
		{"unterminated", `{"action": "search"`, nil, "JSON content"},
		{"trailing comma", `{"action": "search",}`, nil, "JSON content"},
		{"an array", `["search", "morpheus"]`, nil, "is an array, want an object"},
		{"a string", `"search"`, nil, "is a string, want an object"},
		{"a number", `41`, nil, "is a number, want an object"},
		{"null", `null`, nil, "is null, want an object"},
		{"true", `true`, nil, "is true or false, want an object"},
		{"a value that is a number", `{"action": "search", "value": 1}`, nil, `"value" is a number, want a string`},
		{"a value that is a bool", `{"action": "search", "value": false}`, nil, `"value" is true or false, want a string`},
		{"a value that is null", `{"action": "search", "value": null}`, nil, `"value" is null, want a string`},
		{"a value that is an array", `{"action": "search", "value": ["morpheus"]}`, nil, `"value" is an array, want a string`},
		{"a value that is an object", `{"action": "search", "value": {"v": "morpheus"}}`, nil, `"value" is an object, want a string`},
		{"duplicate key", `{"action": "search", "action": "other"}`, nil, `"action" appears twice`},
		{"trailing data", `{"action": "search"} {}`, nil, "more after the JSON object"},
		{"trailing garbage", `{"action": "search"}x`, nil, "more after the JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := message.DecodeStrings([]byte(tt.content))
			if tt.text != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.text)
				assert.Nil(t, got)
				return
			}
			require.NoError(t, err)
			assert.Empty(t, cmp.Diff(tt.want, got))
		})
	}
}

// Every JSON vector's content decodes to the keys and values it was built
// from.
func TestDecodeStringsPythonVectors(t *testing.T) {
	for _, v := range vectors {
		if v.kv == nil {
			continue
		}
		want := map[string]string{}
		for i := 0; i < len(v.kv); i += 2 {
			want[v.kv[i]] = v.kv[i+1]
		}
		got, err := message.DecodeStrings([]byte(v.content))
		require.NoError(t, err, v.name)
		assert.Empty(t, cmp.Diff(want, got), v.name)
	}
}

// Expected says how big the unfinished message will be as soon as the
// prefix, then the header, say so, before the content arrives: what a
// server needs to decide whether it has room for a request.
func TestParserExpected(t *testing.T) {
	h := header("1048576")
	wire := frame(h, "0123456789")
	var p message.Parser
	assert.Zero(t, p.Expected(), "between messages")

	_, err := p.Feed(wire[:1])
	require.NoError(t, err)
	assert.Equal(t, 1, p.Expected(), "in the prefix: what has arrived")

	_, err = p.Feed(wire[1:3])
	require.NoError(t, err)
	assert.Equal(t, 2+len(h), p.Expected(), "the prefix says how long the header is")

	_, err = p.Feed(wire[3:])
	require.NoError(t, err)
	assert.Equal(t, 2+len(h)+1048576, p.Expected(), "the header says how long the content is")
	assert.Equal(t, 2+len(h)+10, p.Pending())

	_, err = p.Feed([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, 2+len(h)+1048576, p.Expected(), "more content changes nothing")

	require.ErrorIs(t, p.End(), message.ErrTruncated)
	assert.Zero(t, p.Expected(), "after an error")

	var q message.Parser
	msgs, err := q.Feed(vectors[0].wire())
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Zero(t, q.Expected(), "after a whole message")
}

// Content bigger than the 16 KiB pieces it arrives in, fed in pieces of
// every awkward size, comes out whole and exact, from both readers.
func TestLargeContentInPieces(t *testing.T) {
	content := make([]byte, 100_000)
	for i := range content {
		content[i] = byte(i * 7)
	}
	m := message.Message{ByteOrder: "little", ContentType: "binary/x", ContentEncoding: message.EncodingBinary, Content: content}
	wire := encode(t, m)
	for _, size := range []int{1, 4095, 4096, 16 << 10, 16<<10 + 1, len(wire)} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			var p message.Parser
			var got []message.Message
			for rest := wire; len(rest) > 0; {
				n := min(size, len(rest))
				msgs, err := p.Feed(rest[:n])
				require.NoError(t, err)
				got = append(got, msgs...)
				rest = rest[n:]
			}
			require.Len(t, got, 1)
			assert.Equal(t, content, got[0].Content)
			assert.Equal(t, len(content), cap(got[0].Content), "one allocation of the right size")
		})
	}
	d := message.NewDecoder(bytes.NewReader(wire))
	got, err := d.Decode()
	require.NoError(t, err)
	assert.Equal(t, content, got.Content)
}

// A peer's text in an error is quoted and cut: a key of a million DEL
// bytes, a header key of 60 KB, a number of 60,000 digits, a newline,
// bad UTF-8. No error is longer than a few hundred bytes, none holds a
// control byte, and each says how long the text was.
func TestErrorsQuoteAndCutThePeersText(t *testing.T) {
	del := strings.Repeat("\x7f", 1<<20-20)
	digits := strings.Repeat("9", 60_000)
	tests := []struct {
		name string
		err  func() error
		want string
	}{
		{"JSON content key of DEL bytes", func() error {
			_, err := message.DecodeStrings([]byte(`{"` + del + `": 1}`))
			return err
		}, `JSON content: "\x7f\x7f`},
		{"JSON content key, value not JSON", func() error {
			_, err := message.DecodeStrings([]byte(`{"` + del + `": nope}`))
			return err
		}, `(1048556 bytes): invalid character 'o'`},
		{"JSON content number too big for a float", func() error {
			_, err := message.DecodeStrings([]byte(`{"a": 1e` + digits + `}`))
			return err
		}, "json: cannot unmarshal number 1e999"},
		{"header key of 60 KB", func() error {
			_, err := parseOne(frame(`{"`+strings.Repeat("\x7f", 60_000)+`": nope}`, ""))
			return err
		}, `(60000 bytes): invalid character 'o'`},
		{"header byteorder with a newline", func() error {
			_, err := parseOne(frame(strings.Replace(header("0"), `"little"`, `"l\nclosing connection to 10.9.8.7:6543: forged"`, 1), ""))
			return err
		}, `"byteorder" is "l\nclosing connection to 10.9.8.7:6543: forged", want`},
		{"header content-encoding of 60 KB", func() error {
			_, err := parseOne(frame(strings.Replace(header("0"), `"utf-8"`, `"`+strings.Repeat("é", 30_000)+`"`, 1), ""))
			return err
		}, `"content-encoding" "ééé`},
		{"content-length of 60,000 digits", func() error {
			_, err := parseOne(frame(header(digits), ""))
			return err
		}, "content-length 999"},
		{"content-length of minus 60,000 digits", func() error {
			_, err := parseOne(frame(header("-"+digits), ""))
			return err
		}, "(60001 bytes) is not a whole number of bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			require.Error(t, err)
			text := err.Error()
			assert.Contains(t, text, tt.want)
			assert.LessOrEqual(t, len(text), 400, text)
			if !strings.Contains(tt.name, "newline") {
				assert.Regexp(t, `\(\d+ bytes\)`, text, "says how long the text was")
			}
			for _, r := range text {
				assert.True(t, r >= ' ' && r != 0x7f && (r < 0x80 || r > 0x9f), "a control character %q in %q", r, text)
			}
		})
	}
}

// parseOne feeds b to a new Parser and returns the first message or error.
func parseOne(b []byte) ([]message.Message, error) {
	var p message.Parser
	return p.Feed(b)
}

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `""`},
		{"morpheus", `"morpheus"`},
		{"a\nb\r\"c\\", `"a\nb\r\"c\\"`},
		{"\x7f\xff🐶\u2028\u202e", `"\x7f\xff🐶\u2028\u202e"`},
		{strings.Repeat("a", message.MaxQuoted-2), `"` + strings.Repeat("a", message.MaxQuoted-2) + `"`},
		{strings.Repeat("a", message.MaxQuoted), `"` + strings.Repeat("a", message.MaxQuoted-1) + `"... (200 bytes)`},
		{strings.Repeat("\x7f", 1000), `"` + strings.Repeat(`\x7f`, 49) + `"... (1000 bytes)`},
		{strings.Repeat("🐶", 100), `"` + strings.Repeat("🐶", 49) + `"... (400 bytes)`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, message.Quote(tt.in), "Quote(%q)", tt.in)
		if len(tt.in) < 100 {
			assert.Equal(t, fmt.Sprintf("%q", tt.in), message.Quote(tt.in), "short: as %%q")
		}
	}
}

// Big messages, fed in pieces of random sizes to Parsers that run at the
// same time, some of them abandoned in the middle of their content: every
// message comes out exactly as it was sent, so the 16 KiB pieces that go
// back to the pool and are taken again never mix one message with another.
func TestLargeContentPiecesAreNotShared(t *testing.T) {
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(g), 6))
			for i := range 30 {
				content := make([]byte, 16<<10+1+rng.IntN(200_000))
				for j := range content {
					content[j] = byte(rng.Uint32())
				}
				m := message.Message{ByteOrder: "big", ContentType: "binary/x", ContentEncoding: message.EncodingBinary, Content: content}
				wire, err := message.Append(nil, m)
				if !assert.NoError(t, err) {
					return
				}
				abandon := i%3 == 2
				if abandon {
					wire = wire[:len(wire)-1-rng.IntN(len(content))]
				}
				var p message.Parser
				var got []message.Message
				for rest := wire; len(rest) > 0; {
					n := min(1+rng.IntN(40_000), len(rest))
					msgs, err := p.Feed(rest[:n])
					if !assert.NoError(t, err) {
						return
					}
					got = append(got, msgs...)
					rest = rest[n:]
				}
				if abandon {
					assert.ErrorIs(t, p.End(), message.ErrTruncated)
					assert.Empty(t, got)
					continue
				}
				if assert.Len(t, got, 1) {
					assert.True(t, bytes.Equal(content, got[0].Content), "goroutine %d, message %d: the content differs", g, i)
				}
			}
		})
	}
	wg.Wait()
}
