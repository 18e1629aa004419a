// Command reverse-server answers every client once: it reads what the
// client sends, writes it back reversed, and closes the connection. It
// serves any number of clients at once; Ctrl-C stops it.
//
//	usage: reverse-server [-addr host:port] [-bytes] [-timeout duration]
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

	reverse "example.com/sockets/07-reverse-repl"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("reverse-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", reverse.DefaultAddr, "listen on `host:port`")
	rawBytes := flags.Bool("bytes", false, "reverse raw bytes, as the tutorial does, instead of UTF-8 characters")
	timeout := flags.Duration("timeout", reverse.DefaultTimeout, "hang up on a client that sends nothing, or takes no answer, for this `duration`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: reverse-server [-addr host:port] [-bytes] [-timeout duration]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "reverse-server: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "reverse-server: -timeout must be positive")
		return 2
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "reverse-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintln(stderr, "is another server already running? Stop it, or pick another port with -addr")
		}
		return 1
	}

	srv := &reverse.Server{Log: log.New(stdout, "", 0), ReverseBytes: *rawBytes, Timeout: *timeout}
	closed := make(chan error, 1)
	stopOnCancel := context.AfterFunc(ctx, func() { closed <- srv.Close() })
	defer stopOnCancel()

	if err := srv.Serve(ln); !errors.Is(err, reverse.ErrServerClosed) {
		fmt.Fprintf(stderr, "reverse-server: %v\n", err)
		srv.Close()
		return 1
	}
	// Serve returns once the listener is closed; Close returns once every
	// connection's goroutine has ended.
	if err := <-closed; err != nil {
		fmt.Fprintf(stderr, "reverse-server: close: %v\n", err)
	}
	fmt.Fprintln(stdout, "server stopped")
	return 0
}
