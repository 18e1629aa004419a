// Command echo-server listens on a TCP address and echoes back everything a
// client sends, one client at a time. Ctrl-C stops it.
//
//	usage: echo-server [-addr host:port] [-buffer bytes] [-timeout duration]
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

	echo "example.com/sockets/02-echo"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("echo-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", echo.DefaultAddr, "listen on `host:port`")
	buffer := flags.Int("buffer", echo.DefaultBufferSize, "read at most this many `bytes` at a time")
	timeout := flags.Duration("timeout", echo.DefaultTimeout, "drop a client that neither sends nor reads for this `duration`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: echo-server [-addr host:port] [-buffer bytes] [-timeout duration]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "echo-server: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *buffer < 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "echo-server: -buffer and -timeout must be positive")
		return 2
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "echo-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	srv := &echo.Server{Log: log.New(stdout, "", 0), BufferSize: *buffer, Timeout: *timeout}
	stopOnCancel := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopOnCancel()

	err = srv.Serve(ln)
	if errors.Is(err, echo.ErrServerClosed) {
		fmt.Fprintln(stdout, "server stopped")
		return 0
	}
	fmt.Fprintf(stderr, "echo-server: %v\n", err)
	return 1
}
