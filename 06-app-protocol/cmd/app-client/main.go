// Command app-client sends the tutorial's requests to an app-server and
// prints the answers, byte for byte as app-client.py does. Like the
// tutorial's client it takes HOST PORT ACTION VALUE; with -addr, or with
// the default address, just ACTION VALUE. More ACTION VALUE pairs are sent
// one after the other on the same connection; with more than one pair, the
// arguments start with HOST PORT unless -addr is given.
//
// With -flood it sends its request over and over and never reads an
// answer: the tutorial's app-client-test.py, for watching the kernel's
// buffers fill (demo.Flood).
//
//	usage: app-client [-timeout d] [-flood] [-addr host:port | HOST PORT] ACTION VALUE [ACTION VALUE]...
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

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/demo"
	"example.com/sockets/06-app-protocol/message"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops waiting.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("app-client", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", app.DefaultAddr, "connect to the server at `host:port`")
	timeout := flags.Duration("timeout", app.DefaultClientTimeout, "give up on a request whose response is not in within this `duration`")
	flood := flags.Bool("flood", false, "demonstration: send the request over and over, read nothing, and stop once a write has waited -timeout")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: app-client [-timeout d] [-flood] [-addr host:port | HOST PORT] ACTION VALUE [ACTION VALUE]...")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageError := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "app-client: "+format+"\n", args...)
		flags.Usage()
		return 2
	}
	given := make(map[string]bool)
	flags.Visit(func(f *flag.Flag) { given[f.Name] = true })

	rest := flags.Args()
	if !given["addr"] && len(rest) >= 4 { // the tutorial's way: app-client 127.0.0.1 65432 search morpheus
		if port, err := strconv.ParseUint(rest[1], 10, 16); err != nil || port == 0 {
			return usageError("with four arguments or more, the first two are HOST PORT, and PORT %q is not a port number; to send several requests to the default address, give -addr", rest[1])
		}
		*addr = net.JoinHostPort(rest[0], rest[1])
		rest = rest[2:]
	}
	switch {
	case len(rest) == 0 || len(rest)%2 != 0:
		return usageError("want HOST PORT ACTION VALUE, or ACTION VALUE pairs; got %q", flags.Args())
	case *timeout <= 0:
		return usageError("-timeout must be positive")
	case *flood && len(rest) != 2:
		return usageError("-flood sends one request, over and over: give one ACTION VALUE")
	}
	var reqs []message.Message
	for i := 0; i < len(rest); i += 2 {
		req, err := app.NewRequest(rest[i], rest[i+1])
		if err != nil {
			return usageError("%v", err)
		}
		reqs = append(reqs, req)
	}

	logger := log.New(stdout, "", 0)
	if *flood {
		return floodServer(ctx, *addr, reqs[0], *timeout, logger, stderr)
	}
	client := &app.Client{Log: logger, Timeout: *timeout}
	conn, err := client.Dial(ctx, *addr)
	if err != nil {
		return dialFailed(ctx, *addr, err, stderr)
	}
	code := 0
	for _, req := range reqs {
		if code = ask(ctx, conn, req, stdout, stderr); code != 0 {
			break
		}
	}
	conn.Close()
	return code
}

// dialFailed reports a failed dial, with a hint when nothing listens at
// addr or when there is no way to it, and returns the exit code.
func dialFailed(ctx context.Context, addr string, err error, stderr io.Writer) int {
	if ctx.Err() != nil {
		return 130
	}
	fmt.Fprintf(stderr, "app-client: %v\n", err)
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		fmt.Fprintln(stderr, refusedHint(addr))
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		fmt.Fprintln(stderr, unreachableHint(addr))
	}
	return 1
}

// ask sends one request and prints the answer, as the tutorial's client
// does: "got result: …" for JSON, "got response: b'…'" for binary. What
// the server sent is shown as app.Show and app.Repr show it: escaped if
// it holds a control character, and cut after about 200 bytes.
func ask(ctx context.Context, conn *app.Conn, req message.Message, stdout, stderr io.Writer) int {
	resp, err := conn.Do(ctx, req)
	if err != nil {
		if ctx.Err() != nil {
			return 130 // Ctrl-C: the shell's code for "ended by SIGINT"
		}
		fmt.Fprintf(stderr, "app-client: %v\n", err)
		return 1
	}
	result, isJSON, err := app.Result(resp)
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "app-client: %v\n", err)
		return 1
	case !isJSON:
		fmt.Fprintf(stdout, "got response: %s\n", app.Repr(resp.Content, message.MaxQuoted))
	case app.IsError(result):
		fmt.Fprintf(stdout, "got result: %s\n", app.Show(result))
		fmt.Fprintln(stderr, "app-client: the server answered with an error")
		return 1
	default:
		fmt.Fprintf(stdout, "got result: %s\n", app.Show(result))
	}
	return 0
}

// floodServer is the tutorial's app-client-test.py: it connects as the
// client does, then writes until the server's buffers, and then its own,
// are full (demo.Flood).
func floodServer(ctx context.Context, addr string, req message.Message, timeout time.Duration, logger *log.Logger, stderr io.Writer) int {
	logger.Printf("starting connection to %s", addr)
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return dialFailed(ctx, addr, err, stderr)
	}
	logger.Print("sending the request over and over, and reading nothing")
	sent, err := demo.Flood(ctx, conn, req, timeout)
	logger.Printf("closing connection to %s", addr)
	conn.Close()
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "app-client: stopped after %d bytes\n", sent)
		return 130
	}
	fmt.Fprintf(stderr, "app-client: %v\n", err)
	return 1
}

// refusedHint is the line printed after "connection refused" at addr: how
// to start the server there, from the chapter's folder (where ./cmd/...
// is). It gives -addr only when addr is not the default, quoted for the
// shell when it needs to be; port 0 is not an address a client can reach,
// so it says that instead.
func refusedHint(addr string) string {
	const hint = "is the server running? "
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n == 0 {
			return hint + "port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
		}
	}
	start := hint + "Start it in the chapter's folder with: go run ./cmd/app-server"
	if addr == app.DefaultAddr {
		return start
	}
	return start + " -addr " + shellQuote(addr)
}

// unreachableHint is the line printed after "no route to host"
// (EHOSTUNREACH) or "network is unreachable" (ENETUNREACH): a router on
// the way answered the connection's SYN with an ICMP "destination
// unreachable", or this machine has no route to addr at all. No server
// was asked, so the question is the address, and the way to it.
func unreachableHint(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	return "there is no way from here to " + host + ": is the address right? See whether it answers at all with: ping " + shellQuote(host)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:65432" are not a glob in zsh.
func shellQuote(s string) string {
	plain := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".:-_", r))
	})
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
