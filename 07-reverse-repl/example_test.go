package reverse_test

import (
	"fmt"
	"io"
	"log"
	"net"
	"time"

	reverse "example.com/sockets/07-reverse-repl"
)

// Runes reverses the characters of UTF-8 text and keeps each one whole.
func ExampleRunes() {
	fmt.Printf("%q\n", reverse.Runes([]byte("Hello, world!")))
	fmt.Printf("%q\n", reverse.Runes([]byte("héllo 🐶")))
	// Output:
	// "!dlrow ,olleH"
	// "🐶 olléh"
}

// Bytes is the tutorial's bytes(reversed(data)): right for ASCII, and not
// UTF-8 at all for text with é or 🐶 in it, whose bytes come out back to
// front.
func ExampleBytes() {
	fmt.Printf("%q\n", reverse.Bytes([]byte("Hello, world!")))
	fmt.Printf("%q\n", reverse.Bytes([]byte("héllo 🐶")))
	// Output:
	// "!dlrow ,olleH"
	// "\xb6\x90\x9f\xf0 oll\xa9\xc3h"
}

// The tutorial's session: a server on a port chosen by the kernel, and a
// client that sends "Hello, world!" and reads until the server closes.
func ExampleServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &reverse.Server{}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	conn, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte("Hello, world!")); err != nil {
		log.Fatal(err)
	}
	// ReadAll reads until EOF: the server closes after its answer.
	answer, err := io.ReadAll(conn)
	if err != nil {
		log.Fatal(err)
	}
	conn.Close()
	fmt.Printf("%s\n", answer)

	srv.Close()
	fmt.Println(<-served)
	// Output:
	// !dlrow ,olleH
	// reverse: server closed
}
