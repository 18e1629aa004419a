package multiconn_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	multiconn "example.com/sockets/05-multiconn"
)

// A server on a port chosen by the kernel, and a client that opens 100
// connections to it at once, each sending the tutorial's two messages.
func ExampleClient_Run() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &multiconn.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := (&multiconn.Client{}).Run(ctx, ln.Addr().String(), 100, multiconn.DefaultMessages)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d of %d connections echoed, %d bytes sent, %d received\n",
		res.Succeeded, res.Conns, res.BytesSent, res.BytesReceived)
	// Output: 100 of 100 connections echoed, 4400 bytes sent, 4400 received
}
