// Command basic-client connects to a basic-server, prints what it says and
// exits once the server has closed the connection.
//
//	usage: basic-client [-addr host:port] [-timeout duration]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	basic "example.com/sockets/01-basic-server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("basic-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", basic.DefaultAddr, "connect to the server at `host:port`")
	timeout := flags.Duration("timeout", 10*time.Second, "give up if the server has not finished within this `duration`")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: basic-client [-addr host:port] [-timeout duration]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "basic-client: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	reply, err := basic.Fetch(ctx, *addr)
	if err != nil {
		fmt.Fprintf(stderr, "basic-client: %v\n", err)
		if errors.Is(err, syscall.ECONNREFUSED) {
			fmt.Fprintf(stderr, "is the server running? Start it with: go run ./cmd/basic-server -addr %s\n", *addr)
		}
		return 1
	}
	stdout.Write(reply)
	if len(reply) > 0 && reply[len(reply)-1] != '\n' {
		fmt.Fprintln(stdout) // end the line, so the shell prompt starts on its own
	}
	return 0
}
