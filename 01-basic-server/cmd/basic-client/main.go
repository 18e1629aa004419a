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
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
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
			fmt.Fprintln(stderr, refusedHint(*addr))
		}
		return 1
	}
	stdout.Write(reply)
	if len(reply) > 0 && reply[len(reply)-1] != '\n' {
		fmt.Fprintln(stdout) // end the line, so the shell prompt starts on its own
	}
	return 0
}

// refusedHint is the line the client adds when nothing listens at addr: how
// to start the server, as a command that works when typed as shown.
func refusedHint(addr string) string {
	const hint = "is the server running? "
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n == 0 {
			return hint + "port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
		}
	}
	start := hint + "Start it in the chapter's folder with: go run ./cmd/basic-server"
	if addr == basic.DefaultAddr {
		return start
	}
	return start + " -addr " + shellQuote(addr)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:5000" are not a pattern to zsh.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".:-_", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
