// Command multiconn-client opens many connections to a multiconn-server at
// once, sends the same messages on each and checks every echo, printing
// what happens on each connection as the tutorial's multiconn-client.py
// does. Like the tutorial's client it takes HOST PORT NUM_CONNECTIONS; or
// just NUM_CONNECTIONS, with -addr.
//
// With -repeat, -duration or -stream it is a load generator instead
// (package load): it keeps the server busy and prints how many messages,
// or bytes, per second came back, and how long a round trip took.
//
//	usage: multiconn-client [-m message]... [-timeout duration] [-q] [-repeat n] [-size bytes] [-duration d] [-stream] [-addr host:port | HOST PORT] NUM_CONNECTIONS
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
	"strconv"
	"strings"
	"syscall"
	"time"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/load"
)

// Bounds on the arguments, so that a typo cannot exhaust the machine.
const (
	maxConns = 100_000
	maxSize  = 64 << 20 // bytes per message; each connection holds two
)

// maxFailuresShown is how many failed connections are listed one by one.
const maxFailuresShown = 10

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops every
	// connection.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("multiconn-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", multiconn.DefaultAddr, "connect to the server at `host:port`")
	var messages []string
	flags.Func("m", "send this `message` on every connection, instead of the tutorial's two (repeatable)", func(m string) error {
		if m == "" {
			return errors.New("a message cannot be empty")
		}
		messages = append(messages, m)
		return nil
	})
	timeout := flags.Duration("timeout", multiconn.DefaultClientTimeout, "give up on a connection whose echo is not complete within this `duration`")
	quiet := flags.Bool("q", false, "quiet: print only the summary, no line per connection or progress line")
	repeat := flags.Int("repeat", 0, "load test: send `n` messages per connection, one at a time")
	size := flags.Int("size", 64, "load test: `bytes` per message")
	duration := flags.Duration("duration", 0, "load test: run for this `d`uration")
	stream := flags.Bool("stream", false, "load test: stream bytes on each connection for -duration, rather than ping-pong messages")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: multiconn-client [-m message]... [-timeout duration] [-q] [-repeat n] [-size bytes] [-duration d] [-stream] [-addr host:port | HOST PORT] NUM_CONNECTIONS")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageError := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "multiconn-client: "+format+"\n", args...)
		flags.Usage()
		return 2
	}

	var count string
	switch flags.NArg() {
	case 1:
		count = flags.Arg(0)
	case 3: // the tutorial's way: multiconn-client 127.0.0.1 65432 2
		*addr = net.JoinHostPort(flags.Arg(0), flags.Arg(1))
		count = flags.Arg(2)
	default:
		return usageError("want HOST PORT NUM_CONNECTIONS, or NUM_CONNECTIONS with -addr; got %q", flags.Args())
	}
	conns, err := strconv.Atoi(count)
	if err != nil || conns < 1 || conns > maxConns {
		return usageError("NUM_CONNECTIONS must be a whole number from 1 to %d; got %q", maxConns, count)
	}

	// Which flags were given decides the mode.
	given := make(map[string]bool)
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if !given["repeat"] && !given["duration"] && !given["stream"] {
		switch {
		case given["size"]:
			return usageError("-size goes with -repeat, -duration or -stream (load test); to choose what to send, use -m")
		case *timeout <= 0:
			return usageError("-timeout must be positive")
		}
		if messages == nil {
			messages = multiconn.DefaultMessages
		}
		return echoCheck(ctx, *addr, conns, messages, *timeout, *quiet, stdout, stderr)
	}

	switch {
	case given["m"] || given["timeout"]:
		return usageError("-m and -timeout are for the echo check; a load test sends -size bytes per message")
	case *repeat < 0 || *duration < 0:
		return usageError("-repeat and -duration must not be negative")
	case *stream && *duration == 0:
		return usageError("-stream needs a -duration")
	case *stream && given["repeat"]:
		return usageError("-repeat counts ping-pong messages, and -stream sends none")
	case *stream && given["size"]:
		return usageError("-size is for ping-pong messages; -stream writes 64 KB at a time")
	case !*stream && (*size < 1 || *size > maxSize):
		return usageError("-size must be at least 1 and at most %d", maxSize)
	case !*stream && *repeat == 0 && *duration == 0:
		return usageError("give -repeat or -duration a value above 0, or the test would never end")
	}
	l := &load.Generator{Conns: conns, Size: *size, Stream: *stream, Repeat: *repeat, Duration: *duration}
	if !*quiet {
		l.Progress = stderr
	}
	return loadTest(ctx, l, *addr, stdout, stderr)
}

// echoCheck is the tutorial's client: conns connections at once, the same
// messages on each, every echo checked.
func echoCheck(ctx context.Context, addr string, conns int, messages []string, timeout time.Duration, quiet bool, stdout, stderr io.Writer) int {
	client := &multiconn.Client{Timeout: timeout}
	if !quiet {
		client.Log = log.New(stdout, "", 0)
	}
	res, err := client.Run(ctx, addr, conns, messages)
	switch {
	case err == nil:
		fmt.Fprintf(stdout, "%v: all echoed\n", res)
		return 0
	case ctx.Err() != nil:
		return 130 // Ctrl-C: the shell's code for "ended by SIGINT"
	case len(res.Failures) == 0:
		fmt.Fprintf(stderr, "multiconn-client: %v\n", err)
		return 1
	}

	// Without -q, the client's log has said why each connection failed,
	// as it happened; with -q, say it here, once.
	if quiet {
		for i, f := range res.Failures {
			if i == maxFailuresShown {
				fmt.Fprintf(stderr, "multiconn-client: ... and %d more\n", len(res.Failures)-i)
				break
			}
			fmt.Fprintf(stderr, "multiconn-client: %v\n", f)
		}
	}
	fmt.Fprintf(stderr, "multiconn-client: %v\n", err)
	refused := 0
	for _, f := range res.Failures {
		if errors.Is(f, syscall.ECONNREFUSED) {
			refused++
		}
	}
	if refused == conns {
		fmt.Fprintln(stderr, hint(addr))
	}
	return 1
}

// loadTest runs l and prints its result.
func loadTest(ctx context.Context, l *load.Generator, addr string, stdout, stderr io.Writer) int {
	res, err := l.Run(ctx, addr)
	switch {
	case err == nil:
		fmt.Fprintln(stdout, res)
		return 0
	case ctx.Err() != nil:
		return 130
	}
	fmt.Fprintf(stderr, "multiconn-client: %v\n", err)
	if errors.Is(err, syscall.ECONNREFUSED) {
		fmt.Fprintln(stderr, hint(addr))
	}
	return 1
}

// hint is what to tell someone whose every connection to addr was
// refused: how to start the server there, as a command to paste.
func hint(addr string) string {
	const q = "is the server running? "
	if _, port, err := net.SplitHostPort(addr); err == nil && port == "0" {
		return q + "port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
	}
	cmd := "go run ./cmd/multiconn-server"
	if addr != multiconn.DefaultAddr {
		cmd += " -addr " + shellQuote(addr)
	}
	return q + "Start it in the chapter's folder with: " + cmd
}

// shellQuote returns s as a shell word: unchanged if it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:5000" are not a pattern to zsh.
func shellQuote(s string) string {
	plain := s != ""
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".:-_", r)) {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
