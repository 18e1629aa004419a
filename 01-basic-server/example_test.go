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

// An IPv6 address in host:port form goes in brackets, because it has colons
// of its own. JoinHostPort adds them and SplitHostPort takes them off; an
// address made of IP literals needs no resolver at all.
func Example_ipv6HostPort() {
	addr := net.JoinHostPort("::1", "5000")
	fmt.Println(addr)

	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(host, port)

	tcpAddr, err := net.ResolveTCPAddr("tcp", addr) // no lookup: a literal
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tcpAddr.IP, tcpAddr.Port)
	// Output:
	// [::1]:5000
	// ::1 5000
	// ::1 5000
}
