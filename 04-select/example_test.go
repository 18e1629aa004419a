package chat_test

import (
	"context"
	"log"
	"net"
	"os"
	"strings"
	"time"

	chat "example.com/sockets/04-select"
)

// A room on a port chosen by the kernel, and a client that says two lines
// and leaves. Alone in the room, it hears only its own receipts.
func ExampleClient_Chat() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &chat.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	in := strings.NewReader("hello\nhow are you\n")
	if err := (&chat.Client{}).Chat(ctx, ln.Addr().String(), in, os.Stdout); err != nil {
		log.Fatal(err)
	}
	// Output:
	// OK ... hello
	// OK ... how are you
}
