// Command chat-client joins a chat room run by chat-server. It sends the
// lines you type (or pipe in, or give with -m) and prints what the room
// says, both at once. It leaves when its input ends.
//
//	usage: chat-client [-addr host:port] [-timeout duration] [-m line]...
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
	"strings"
	"syscall"

	chat "example.com/sockets/04-select"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("chat-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", chat.DefaultAddr, "connect to the room at `host:port`")
	timeout := flags.Duration("timeout", chat.DefaultClientTimeout, "once the input has ended, wait at most this `duration` for the room to finish")
	var lines []string
	flags.Func("m", "send this `line` instead of reading standard input (repeatable)", func(line string) error {
		if strings.ContainsAny(line, "\r\n") {
			return errors.New("a line cannot contain a line break")
		}
		lines = append(lines, line)
		return nil
	})
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: chat-client [-addr host:port] [-timeout duration] [-m line]...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "chat-client: unexpected argument %q (to send it, use -m)\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *timeout <= 0 {
		fmt.Fprintln(stderr, "chat-client: -timeout must be positive")
		return 2
	}
	in := stdin
	if len(lines) > 0 {
		in = strings.NewReader(strings.Join(lines, "\n") + "\n")
	}

	client := &chat.Client{Timeout: *timeout}
	err := client.Chat(ctx, *addr, in, stdout)
	switch {
	case err == nil:
		return 0
	case ctx.Err() != nil:
		return 130 // Ctrl-C: the shell's code for "ended by SIGINT"
	}
	fmt.Fprintf(stderr, "chat-client: %v\n", err)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintln(stderr, refusedHint(*addr))
	}
	return 1
}

// refusedHint is the line printed after "connection refused" at addr: how
// to start the server there, from the chapter's folder (where ./cmd/...
// is). It gives -addr only when addr is not the default, quoted for the
// shell when it needs to be; port 0 is not an address a client can reach,
// so it says that instead.
func refusedHint(addr string) string {
	const hint = "is the server running? Start it in the chapter's folder with: go run ./cmd/chat-server"
	switch _, port, _ := net.SplitHostPort(addr); {
	case port == "0":
		return hint + "; port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	case addr == chat.DefaultAddr:
		return hint
	}
	return hint + " -addr " + shellQuote(addr)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:5000" are not a glob in zsh.
func shellQuote(s string) string {
	plain := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".:-_", r))
	})
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
