package message_test

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"example.com/sockets/06-app-protocol/message"
)

// benchStream returns n copies of the "search morpheus" request, back to
// back, as a client that sends many requests on one connection writes
// them.
func benchStream(n int) []byte { return bytes.Repeat(vectors[0].wire(), n) }

// benchMessages is how many messages the stream benchmarks decode before
// they start the stream over.
const benchMessages = 1000

// BenchmarkAppend encodes the "search morpheus" request into a reused
// buffer: the path of every message a server or client sends.
func BenchmarkAppend(b *testing.B) {
	m := vectors[0].message()
	buf := make([]byte, 0, 256)
	b.SetBytes(int64(len(vectors[0].wire())))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = message.Append(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecoder reads the "search morpheus" request with a Decoder
// from a bytes.Reader that holds many of them back to back, as a client
// reads responses on a keep-alive connection. Each op is one message, so
// ns/op, B/op and allocs/op are per message; at the end of the stream the
// benchmark starts it over with a new Decoder.
func BenchmarkDecoder(b *testing.B) {
	stream := benchStream(benchMessages)
	r := bytes.NewReader(stream)
	d := message.NewDecoder(r)
	b.SetBytes(int64(len(vectors[0].wire())))
	b.ReportAllocs()
	for b.Loop() {
		_, err := d.Decode()
		if err == io.EOF { // the stream ended between two messages: again
			r.Reset(stream)
			d = message.NewDecoder(r)
			_, err = d.Decode()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParser feeds the same stream to a Parser in 4096-byte chunks,
// as a read loop with a 4 KiB buffer does (the tutorial's recv(4096)).
// Each op is again one message: it takes the next message the Parser has
// handed back, and feeds it the next chunk when there is none. At the end
// of the stream, the benchmark starts it over with a new Parser.
func BenchmarkParser(b *testing.B) {
	chunks := slices.Collect(slices.Chunk(benchStream(benchMessages), 4096))
	b.SetBytes(int64(len(vectors[0].wire())))
	b.ReportAllocs()
	var (
		p       message.Parser
		next    int               // the chunk to feed next
		pending []message.Message // messages parsed and not yet taken
	)
	for b.Loop() {
		for len(pending) == 0 {
			if next == len(chunks) {
				if err := p.End(); err != nil {
					b.Fatalf("at the end of the stream: %v", err)
				}
				p, next = message.Parser{}, 0
			}
			var err error
			if pending, err = p.Feed(chunks[next]); err != nil {
				b.Fatal(err)
			}
			next++
		}
		pending = pending[1:]
	}
}

// BenchmarkParserLargeMessage feeds a Parser one message with 1 MiB of
// content, 4 KiB at a time, as a server reads a big request. Each op is
// the whole message, so B/op is what one big request costs in memory:
// the content arrives into 16 KiB pieces, taken from a pool and given
// back, and what remains is the content, once, in a slice of its size.
func BenchmarkParserLargeMessage(b *testing.B) {
	content := bytes.Repeat([]byte("x"), message.DefaultMaxContent)
	wire, err := message.Append(nil, message.Message{ByteOrder: "little", ContentType: "binary/x", ContentEncoding: message.EncodingBinary, Content: content})
	if err != nil {
		b.Fatal(err)
	}
	chunks := slices.Collect(slices.Chunk(wire, 4096))
	b.SetBytes(int64(len(wire)))
	b.ReportAllocs()
	for b.Loop() {
		var p message.Parser
		var got []message.Message
		for _, c := range chunks {
			msgs, err := p.Feed(c)
			if err != nil {
				b.Fatal(err)
			}
			got = append(got, msgs...)
		}
		if len(got) != 1 || len(got[0].Content) != len(content) {
			b.Fatalf("%d messages", len(got))
		}
	}
}
