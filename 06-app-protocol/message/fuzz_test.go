package message_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"example.com/sockets/06-app-protocol/message"
)

// fuzzMax is the MaxContent of the fuzz targets' readers: small, so that
// a content-length the fuzzer makes up is refused quickly rather than
// waited for.
const fuzzMax = 1 << 12

// FuzzDecode feeds arbitrary bytes to a Decoder and to a Parser (in two
// pieces, cut where the fuzzer says) and checks that
//   - they agree: the same messages, then the same sentinel error, or a
//     clean end for both (io.EOF from the Decoder, nil from End);
//   - every error they return for bad bytes wraps one of ErrHeader,
//     ErrTooLarge and ErrTruncated;
//   - each message's Content is exactly the bytes its header announced,
//     taken from the right place in the stream, and no longer than
//     MaxContent;
//   - each message survives a round trip: Append, then decoding again,
//     gives the same Message, and Append of that gives the same bytes
//     (Append's output is a fixed point of decode+encode);
//   - Pending counts the bytes after the last message.
//
// Run it with
//
//	go test -run '^$' -fuzz '^FuzzDecode$' -fuzztime 30s ./message
func FuzzDecode(f *testing.F) {
	_, all := allVectors()
	for i, v := range vectors {
		f.Add(v.wire(), i)
	}
	f.Add(all, len(all)/2)
	f.Add(concat(f, vectors[0].message(), emptyMessage, vectors[1].message()), 150)
	f.Add(concat(f, emptyMessage, emptyMessage), 1)
	f.Add([]byte{}, 0)
	for i, m := range malformedInputs() {
		f.Add(m.input, i)
	}
	f.Add(frame(`{"content-length": 2, "x": [{"y": null}], "content-encoding": "binary", "content-type": "\u00e9", "byteorder": "big"}`, "hi"), 3)

	f.Fuzz(func(t *testing.T, data []byte, cut int) {
		cut = int(uint(cut) % uint(len(data)+1))

		dmsgs, derr := decodeAll(bytes.NewReader(data), fuzzMax)
		pmsgs, perr := parseAll(fuzzMax, data[:cut], data[cut:])
		if diff := diffMessages(dmsgs, pmsgs); diff != "" {
			t.Fatalf("Decoder and Parser (cut at %d) disagree: -decoder +parser\n%s", cut, diff)
		}
		switch kind(derr) {
		case io.EOF, message.ErrHeader, message.ErrTooLarge, message.ErrTruncated:
		default:
			t.Fatalf("Decoder: an error that wraps no sentinel: %v", derr)
		}
		if kind(derr) != kind(perr) {
			t.Fatalf("Decoder says %v, Parser (cut at %d) says %v", derr, cut, perr)
		}

		off := 0 // where the next message starts in data
		for i, m := range dmsgs {
			if len(m.Content) > fuzzMax {
				t.Fatalf("message %d: %d bytes of content, more than MaxContent", i, len(m.Content))
			}
			hdrLen := int(data[off])<<8 | int(data[off+1])
			start := off + 2 + hdrLen
			end := start + len(m.Content)
			if end > len(data) || !bytes.Equal(data[start:end], m.Content) {
				t.Fatalf("message %d: its content is not the %d bytes after its header", i, len(m.Content))
			}
			off = end

			wire, err := message.Append(nil, m)
			if err != nil {
				// Only a header within a few bytes of the limit may
				// grow past it, as Append adds spaces.
				if !errors.Is(err, message.ErrHeader) || hdrLen < message.MaxHeaderLen-8 {
					t.Fatalf("message %d: Append(%+v): %v", i, m, err)
				}
				continue
			}
			again, err := decodeAll(bytes.NewReader(wire), fuzzMax)
			if err != io.EOF {
				t.Fatalf("message %d: decoding Append's %q: %v", i, wire, err)
			}
			if diff := diffMessages([]message.Message{m}, again); diff != "" {
				t.Fatalf("message %d does not survive Append and Decode: -first +again\n%s", i, diff)
			}
			again, err = parseAll(fuzzMax, wire)
			if err != io.EOF {
				t.Fatalf("message %d: parsing Append's %q: %v", i, wire, err)
			}
			if diff := diffMessages([]message.Message{m}, again); diff != "" {
				t.Fatalf("message %d does not survive Append and Parse: -first +again\n%s", i, diff)
			}
			if wire2, err := message.Append(nil, again[0]); err != nil || !bytes.Equal(wire, wire2) {
				t.Fatalf("message %d: Append is not stable: %q then %q (%v)", i, wire, wire2, err)
			}
		}
		if derr == io.EOF && off != len(data) {
			t.Fatalf("a clean end after %d of %d bytes", off, len(data))
		}

		// In one piece, the Parser holds what follows the last message.
		var p message.Parser
		p.MaxContent = fuzzMax
		if _, err := p.Feed(data); err == nil && p.Pending() != len(data)-off {
			t.Fatalf("Pending is %d with %d bytes after the last message", p.Pending(), len(data)-off)
		}
	})
}

// FuzzAppendString checks that for any valid UTF-8 string, AppendString
// writes JSON that decodes back to it, in exactly Python's
// json.dumps(s, ensure_ascii=False) form: everything raw except `"` and
// `\` (backslashed) and the controls below U+0020 (\b \t \n \f \r, or
// \u00xx in lower case). Those rules leave one way to write each string,
// so the output is Python's. It also round-trips the string through a
// whole message (as content type and as JSON content).
func FuzzAppendString(f *testing.F) {
	for _, v := range vectors {
		for _, s := range v.kv {
			f.Add(s)
		}
		f.Add(v.content)
	}
	for _, s := range []string{"", "\x00", "\x7f", "\u2028\u2029", "<>&", `\u0041`, "\ufffd", "\U0010FFFF", "\b\f\n\r\t\v", "\"\\/"} {
		f.Add(s)
	}

	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return // the caller's promise: AppendString takes valid UTF-8
		}
		out := message.AppendString(nil, s)
		var back string
		if err := json.Unmarshal(out, &back); err != nil {
			t.Fatalf("AppendString(%q) = %q, not JSON: %v", s, out, err)
		}
		if back != s {
			t.Fatalf("AppendString(%q) = %q, which decodes to %q", s, out, back)
		}
		if err := pythonForm(out); err != nil {
			t.Fatalf("AppendString(%q) = %q: %v", s, out, err)
		}

		obj, err := message.AppendObject(nil, "value", s)
		if err != nil {
			t.Fatal(err)
		}
		strs, err := message.DecodeStrings(obj)
		if err != nil || len(strs) != 1 || strs["value"] != s {
			t.Fatalf("DecodeStrings(%q) = %q, %v", obj, strs, err)
		}

		m := message.Message{ByteOrder: "little", ContentType: s, ContentEncoding: message.EncodingUTF8, Content: obj}
		wire, err := message.Append(nil, m)
		if err != nil {
			if !errors.Is(err, message.ErrHeader) || len(out) < message.MaxHeaderLen-100 {
				t.Fatalf("Append(%+v): %v", m, err)
			}
			return
		}
		msgs, err := decodeAll(bytes.NewReader(wire), 0)
		if diff := diffMessages([]message.Message{m}, msgs); err != io.EOF || diff != "" {
			t.Fatalf("Decoder on %q: %v\n%s", wire, err, diff)
		}
		msgs, err = parseAll(0, bytewise(wire)...)
		if diff := diffMessages([]message.Message{m}, msgs); err != io.EOF || diff != "" {
			t.Fatalf("Parser on %q: %v\n%s", wire, err, diff)
		}
	})
}

// pythonForm checks that a JSON string is written as Python's
// json.dumps(s, ensure_ascii=False) writes it.
func pythonForm(out []byte) error {
	if len(out) < 2 || out[0] != '"' || out[len(out)-1] != '"' {
		return errors.New("not a quoted string")
	}
	short := map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'f': '\f', 'r': '\r', '"': '"', '\\': '\\'}
	body := out[1 : len(out)-1]
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c < 0x20:
			return errors.New("a raw control character")
		case c == '"':
			return errors.New("a raw quote")
		case c != '\\':
			continue
		}
		i++
		if i == len(body) {
			return errors.New("a lone backslash at the end")
		}
		if _, ok := short[body[i]]; ok {
			continue
		}
		if body[i] != 'u' || i+5 > len(body) {
			return errors.New(`an escape Python does not write: \` + string(body[i]))
		}
		hex := string(body[i+1 : i+5])
		if hex[0] != '0' || hex[1] != '0' || !isLowerHex(hex[2]) || !isLowerHex(hex[3]) || hex[2] > '1' {
			return errors.New(`\u` + hex + `: Python escapes only controls, as \u00xx in lower case`)
		}
		switch hex {
		case "0008", "0009", "000a", "000c", "000d":
			return errors.New(`\u` + hex + `: Python writes this one as \b \t \n \f or \r`)
		}
		i += 4
	}
	return nil
}

func isLowerHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// pythonForm is what gives FuzzAppendString its teeth: it must refuse
// every other way of writing a JSON string.
func TestPythonFormChecker(t *testing.T) {
	for _, good := range []string{`""`, `"a\"b\\c"`, `"\b\t\n\f\r\u0000\u001f"`, "\"<>&\x7f\xe2\x80\xa8\"", `"/"`} {
		if err := pythonForm([]byte(good)); err != nil {
			t.Errorf("pythonForm(%s): %v", good, err)
		}
	}
	for _, bad := range []string{
		`"\u003c"`,           // encoding/json's <
		`"\u2028"`,           // encoding/json's U+2028
		`"\u001F"`,           // upper-case hex
		`"\u000a"`,           // a control with a short form
		`"\/"`,               // an escaped slash
		`"\u0041"`,           // an escaped letter
		"\"a\nb\"",           // a raw newline
		`"a"b"`,              // a raw quote
		`"\"`,                // a backslash at the end
		`"\u00"`,             // a short \u escape
		`abc`,                // not quoted
		`"`,                  // one quote
		`"\ud83d\udc36"`,     // ensure_ascii=True's emoji
		"\"\\u0000\\u00e9\"", // ensure_ascii=True's é
	} {
		if err := pythonForm([]byte(bad)); err == nil {
			t.Errorf("pythonForm(%s) accepted it", bad)
		}
	}
}
