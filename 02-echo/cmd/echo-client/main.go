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
	"net"
	"os"
	"os/signal"
	"strconv"
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
			fmt.Fprintln(stderr, refusedHint(*addr))
		}
		return 1
	}
	// %q shows the bytes as a Go string literal, as the tutorial shows
	// Python's b'...': invisible and non-UTF-8 bytes come out escaped.
	fmt.Fprintf(stdout, "Received %q\n", got)
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
	start := hint + "Start it in the chapter's folder with: go run ./cmd/echo-server"
	if addr == echo.DefaultAddr {
		return start
	}
	return start + " -addr " + shellQuote(addr)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:65432" are not a pattern to zsh.
func shellQuote(s string) string {
	plain := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(".:-_", r))
	}) < 0
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
