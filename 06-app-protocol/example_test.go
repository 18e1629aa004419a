package app_test

import (
	"context"
	"fmt"
	"log"
	"net"
	"time"

	app "example.com/sockets/06-app-protocol"
)

// A server on a port chosen by the kernel, and a client that sends it the
// tutorial's search, and then a binary request, on one connection.
func ExampleClient() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	srv := &app.Server{}
	go srv.Serve(ln)
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := (&app.Client{}).Dial(ctx, ln.Addr().String())
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	for _, ask := range [][2]string{{"search", "morpheus"}, {"binary", "hello"}} {
		req, err := app.NewRequest(ask[0], ask[1])
		if err != nil {
			log.Fatal(err)
		}
		resp, err := conn.Do(ctx, req)
		if err != nil {
			log.Fatal(err)
		}
		result, isJSON, err := app.Result(resp)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s %s: %q (JSON: %v)\n", ask[0], ask[1], result, isJSON)
	}
	// Output:
	// search morpheus: "Follow the white rabbit. 🐰" (JSON: true)
	// binary hello: "First 10 bytes of request: binaryhell" (JSON: false)
}

// Respond is the whole service, without a network: a search gets a JSON
// result from the tutorial's table, any other action is binary content,
// answered with its first ten bytes.
func ExampleRespond() {
	for _, ask := range [][2]string{{"search", "morpheus"}, {"search", "neo"}, {"binary", "hello"}} {
		req, err := app.NewRequest(ask[0], ask[1])
		if err != nil {
			log.Fatal(err)
		}
		resp, err := app.Respond(req)
		if err != nil {
			log.Fatal(err)
		}
		result, _, err := app.Result(resp)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-32s %s\n", resp.ContentType, result)
	}
	// Output:
	// text/json                        Follow the white rabbit. 🐰
	// text/json                        No match for 'neo'.
	// binary/custom-server-binary-type First 10 bytes of request: binaryhell
}
