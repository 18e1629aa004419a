// Command threaded-server greets every client and answers each line it
// sends with "OK..." and the line, serving any number of clients at once.
// Ctrl-C stops it: connected clients are told goodbye.
//
//	usage: threaded-server [-addr host:port] [-max-line bytes] [-timeout duration]
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
	"time"

	threaded "example.com/sockets/03-threaded"
)

// shutdownGrace is how long Ctrl-C waits for clients to be told goodbye
// before it closes their connections anyway.
const shutdownGrace = 5 * time.Second

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("threaded-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", threaded.DefaultAddr, "listen on `host:port`")
	maxLine := flags.Int("max-line", threaded.DefaultMaxLineLength, "disconnect a client that sends a line longer than this many `bytes`")
	timeout := flags.Duration("timeout", threaded.DefaultTimeout, "disconnect a client that sends no line, or takes no reply, for this `duration`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: threaded-server [-addr host:port] [-max-line bytes] [-timeout duration]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "threaded-server: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *maxLine < 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "threaded-server: -max-line and -timeout must be positive")
		return 2
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "threaded-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	srv := &threaded.Server{Log: log.New(stdout, "", 0), MaxLineLength: *maxLine, Timeout: *timeout}
	shutdown := make(chan error, 1)
	stopOnCancel := context.AfterFunc(ctx, func() {
		grace, cancel := context.WithTimeout(context.Background(), shutdownGrace)
		defer cancel()
		shutdown <- srv.Shutdown(grace)
	})
	defer stopOnCancel()

	err = srv.Serve(ln)
	if !errors.Is(err, threaded.ErrServerClosed) {
		fmt.Fprintf(stderr, "threaded-server: %v\n", err)
		srv.Close()
		return 1
	}
	// Serve returns as soon as the listener is closed; Shutdown returns
	// once every client has been told goodbye.
	if err := <-shutdown; err != nil {
		fmt.Fprintf(stderr, "threaded-server: shutdown: %v\n", err)
	}
	fmt.Fprintln(stdout, "server stopped")
	return 0
}
