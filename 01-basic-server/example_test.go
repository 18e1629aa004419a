package basic_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	basic "example.com/sockets/01-basic-server"
)

// A server on a port chosen by the kernel, and one client.
func ExampleFetch() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &basic.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	greeting, err := basic.Fetch(ctx, ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(string(greeting))
	// Output: Thank you for connecting
}
