package threaded_test

import (
	"context"
	"log"
	"net"
	"os"
	"strings"
	"time"

	threaded "example.com/sockets/03-threaded"
)

// A server on a port chosen by the kernel, and a client that sends two
// lines and prints what the server says.
func ExampleClient_Talk() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &threaded.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client := &threaded.Client{}
	in := strings.NewReader("hello\nhow are you\n")
	if err := client.Talk(ctx, ln.Addr().String(), in, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// Welcome to the server. Type something and hit enter
	// OK...hello
	// OK...how are you
}
