package reverse_test

import (
	"io"
	"net"
	"strings"
	"testing"
	"time"

	reverse "example.com/sockets/07-reverse-repl"
	"example.com/sockets/07-reverse-repl/internal/testutil"
)

// benchText is 1 KiB of valid UTF-8 mixing 1-, 2- and 4-byte runes: whole
// phrases, padded with ASCII to 1024 bytes.
var benchText = func() []byte {
	const phrase = "Hello, wörld! héllo 🐶 "
	s := strings.Repeat(phrase, 1024/len(phrase))
	return []byte(s + strings.Repeat(".", 1024-len(s)))
}()

func BenchmarkRunes(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		if out := reverse.Runes(benchText); len(out) != len(benchText) {
			b.Fatalf("Runes returned %d bytes, want %d", len(out), len(benchText))
		}
	}
}

func BenchmarkBytes(b *testing.B) {
	b.SetBytes(int64(len(benchText)))
	b.ReportAllocs()
	for b.Loop() {
		if out := reverse.Bytes(benchText); len(out) != len(benchText) {
			b.Fatalf("Bytes returned %d bytes, want %d", len(out), len(benchText))
		}
	}
}

// BenchmarkServer is the tutorial's whole session, once per iteration, as
// its client does it: dial, send "Hello, world!", read to EOF, close. It
// measures a connection's set-up and teardown far more than the reversal.
// allocs/op counts the client's and the server's allocations together.
//
//	go test -run '^$' -bench Server -benchtime 2s
func BenchmarkServer(b *testing.B) {
	addr := testutil.StartServer(b, &reverse.Server{}, reverse.ErrServerClosed).Addr
	send := []byte(helloWorld)
	b.ReportAllocs()
	for b.Loop() {
		// Not testutil.Dial: it adds a cleanup per connection, which
		// would pile up and count in allocs/op.
		c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
		if err != nil {
			b.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(testutil.Timeout))
		if _, err := c.Write(send); err != nil {
			c.Close()
			b.Fatal(err)
		}
		answer, err := io.ReadAll(c)
		c.Close()
		if err != nil || string(answer) != helloWorldBack {
			b.Fatalf("answer %q, %v; want %q, then EOF", answer, err, helloWorldBack)
		}
	}
}
