// Command basic-server listens on a TCP address and greets every client that
// connects with "Thank you for connecting", then hangs up. Ctrl-C stops it.
//
//	usage: basic-server [-addr host:port]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"syscall"

	basic "example.com/sockets/01-basic-server"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("basic-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", basic.DefaultAddr, "listen on `host:port`; 0.0.0.0:5000 or :5000 for every interface")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: basic-server [-addr host:port]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "basic-server: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}

	// net.Listen is socket() + bind() + listen() in one call.
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "basic-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	srv := &basic.Server{Log: log.New(stdout, "", 0)}
	stopOnCancel := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopOnCancel()

	err = srv.Serve(ln)
	if errors.Is(err, basic.ErrServerClosed) {
		fmt.Fprintln(stdout, "server stopped")
		return 0
	}
	fmt.Fprintf(stderr, "basic-server: %v\n", err)
	return 1
}
