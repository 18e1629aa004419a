// Command threaded-client sends lines to a threaded-server and prints what
// the server sends back. The lines come from -m flags or, without them,
// from standard input: type them, or pipe them in. It exits when the input
// ends and every line has been answered.
//
//	usage: threaded-client [-addr host:port] [-timeout duration] [-m line]...
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

	threaded "example.com/sockets/03-threaded"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("threaded-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", threaded.DefaultAddr, "connect to the server at `host:port`")
	timeout := flags.Duration("timeout", threaded.DefaultReplyTimeout, "give up if a reply takes longer than this `duration`")
	var lines []string
	flags.Func("m", "send this `line` instead of reading standard input (repeatable)", func(line string) error {
		if strings.ContainsAny(line, "\r\n") {
			return errors.New("a line cannot contain a line break")
		}
		lines = append(lines, line)
		return nil
	})
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: threaded-client [-addr host:port] [-timeout duration] [-m line]...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "threaded-client: unexpected argument %q (to send it, use -m)\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "threaded-client: -timeout must be positive")
		return 2
	}
	in := stdin
	if len(lines) > 0 {
		in = strings.NewReader(strings.Join(lines, "\n") + "\n")
	}

	client := &threaded.Client{Timeout: *timeout}
	err := client.Talk(ctx, *addr, in, stdout)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		return 130 // Ctrl-C: the shell's code for "ended by SIGINT"
	}
	fmt.Fprintf(stderr, "threaded-client: %v\n", err)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintf(stderr, "is the server running? Start it with: go run ./cmd/threaded-server -addr %s\n", *addr)
	}
	return 1
}
