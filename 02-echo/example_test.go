package echo_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	echo "example.com/sockets/02-echo"
)

// A server on a port chosen by the kernel, and one client.
func ExampleEcho() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &echo.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := echo.Echo(ctx, ln.Addr().String(), []byte("Hello, world"))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("Received %q\n", got)
	// Output: Received "Hello, world"
}
