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

// benchMessages is how many messages the stream benchmarks decode per
// iteration.
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

// BenchmarkDecoder reads a stream of 1000 requests from a bytes.Reader
// with a Decoder. The figures are per stream; ns/msg is per message.
func BenchmarkDecoder(b *testing.B) {
	stream := benchStream(benchMessages)
	r := bytes.NewReader(stream)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(stream)
		d := message.NewDecoder(r)
		for range benchMessages {
			if _, err := d.Decode(); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := d.Decode(); err != io.EOF {
			b.Fatalf("at the end: %v", err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchMessages, "ns/msg")
}

// BenchmarkParser feeds the same stream to a Parser in 4096-byte chunks,
// as a read loop with a 4 KiB buffer does (the tutorial's recv(4096)).
func BenchmarkParser(b *testing.B) {
	stream := benchStream(benchMessages)
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	for b.Loop() {
		var p message.Parser
		n := 0
		for chunk := range slices.Chunk(stream, 4096) {
			msgs, err := p.Feed(chunk)
			if err != nil {
				b.Fatal(err)
			}
			n += len(msgs)
		}
		if err := p.End(); err != nil || n != benchMessages {
			b.Fatalf("%d messages, End: %v", n, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/benchMessages, "ns/msg")
}
