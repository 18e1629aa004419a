// Command echo-client sends a message to an echo-server and prints the echo.
// The message is its arguments joined by spaces, or "Hello, world".
//
//	usage: echo-client [-addr host:port] [-timeout duration] [message ...]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	echo "example.com/sockets/02-echo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("echo-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", echo.DefaultAddr, "connect to the server at `host:port`")
	timeout := flags.Duration("timeout", 10*time.Second, "give up if the echo is not complete within this `duration`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: echo-client [-addr host:port] [-timeout duration] [message ...]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	msg := echo.DefaultMessage
	if flags.NArg() > 0 {
		msg = strings.Join(flags.Args(), " ")
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	got, err := echo.Echo(ctx, *addr, []byte(msg))
	if err != nil {
		fmt.Fprintf(stderr, "echo-client: %v\n", err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintf(stderr, "is the server running? Start it with: go run ./cmd/echo-server -addr %s\n", *addr)
		}
		return 1
	}
	// %q shows the bytes as a Go string literal, as the tutorial shows
	// Python's b'...': invisible and non-UTF-8 bytes come out escaped.
	fmt.Fprintf(stdout, "Received %q\n", got)
	return 0
}
