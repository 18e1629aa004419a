// Command chat-server runs a chat room: every line a client sends is
// confirmed to it with "OK ... " and passed on to everybody else, prefixed
// with its address. With -poll, the room is run by a single-threaded
// poll(2) event loop instead of goroutines (unix only). Ctrl-C stops it.
//
//	usage: chat-server [-addr host:port] [-poll] [-max-line bytes] [-max-pending bytes] [-max-in-flight bytes] [-timeout duration]
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

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/poll"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// server is what both kinds of chat room have in common.
type server interface {
	Serve(net.Listener) error
	Close() error
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("chat-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", chat.DefaultAddr, "listen on `host:port`")
	usePoll := flags.Bool("poll", false, "run the room with a poll(2) event loop instead of goroutines (unix only)")
	maxLine := flags.Int("max-line", chat.DefaultMaxLineLength, "disconnect a client that sends a line longer than this many `bytes`")
	maxPending := flags.Int("max-pending", chat.DefaultMaxPending, "disconnect a client for which more than this many `bytes` wait to be sent")
	maxInFlight := flags.Int("max-in-flight", chat.DefaultMaxInFlight, "read no more from a client while this many `bytes` of what it said wait to be sent")
	timeout := flags.Duration("timeout", chat.DefaultTimeout, "disconnect a client that takes longer than this `duration` to accept a write of up to 64 KiB")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: chat-server [-addr host:port] [-poll] [-max-line bytes] [-max-pending bytes] [-max-in-flight bytes] [-timeout duration]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "chat-server: unexpected argument %q\n", flags.Arg(0))
		flags.Usage()
		return 2
	}
	if *maxLine < 1 || *maxPending < 1 || *maxInFlight < 1 || *timeout <= 0 {
		fmt.Fprintln(stderr, "chat-server: -max-line, -max-pending, -max-in-flight and -timeout must be positive")
		return 2
	}
	if *usePoll && !poll.Supported {
		fmt.Fprintln(stderr, "chat-server: -poll needs a unix system")
		return 2
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "chat-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	logger := log.New(stdout, "", 0)
	var srv server = &chat.Server{Log: logger, MaxLineLength: *maxLine,
		MaxPending: *maxPending, MaxInFlight: *maxInFlight, Timeout: *timeout}
	if *usePoll {
		srv = &poll.Server{Log: logger, MaxLineLength: *maxLine,
			MaxPending: *maxPending, MaxInFlight: *maxInFlight, Timeout: *timeout}
	}
	stopOnCancel := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopOnCancel()

	err = srv.Serve(ln)
	if errors.Is(err, chat.ErrServerClosed) {
		fmt.Fprintln(stdout, "server stopped")
		return 0
	}
	fmt.Fprintf(stderr, "chat-server: %v\n", err)
	return 1
}
