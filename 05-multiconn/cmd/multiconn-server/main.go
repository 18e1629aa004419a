// Command multiconn-server echoes back what clients send, on any number of
// connections at once. Like the tutorial's server it takes the address as
// HOST PORT; -addr does the same. Ctrl-C stops it.
//
//	usage: multiconn-server [-q] [-idle duration] [-write-timeout duration] [-max-conns n] [-addr host:port | HOST PORT]
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
	"time"

	multiconn "example.com/sockets/05-multiconn"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("multiconn-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", multiconn.DefaultAddr, "listen on `host:port`")
	quiet := flags.Bool("q", false, "quiet: no line per echo, for load tests")
	idle := flags.Duration("idle", multiconn.DefaultIdleTimeout, "disconnect a client that sends nothing for this `duration`")
	writeTimeout := flags.Duration("write-timeout", multiconn.DefaultWriteTimeout, "disconnect a client that takes no echo for this `duration`")
	maxConns := flags.Int("max-conns", 0, "refuse clients beyond `n` open connections (0: no limit)")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: multiconn-server [-q] [-idle duration] [-write-timeout duration] [-max-conns n] [-addr host:port | HOST PORT]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	switch flags.NArg() {
	case 0:
	case 2: // the tutorial's way: multiconn-server 127.0.0.1 65432
		*addr = net.JoinHostPort(flags.Arg(0), flags.Arg(1))
	default:
		fmt.Fprintf(stderr, "multiconn-server: want HOST PORT, or no arguments; got %q\n", flags.Args())
		flags.Usage()
		return 2
	}
	if *idle <= 0 || *writeTimeout <= 0 || *maxConns < 0 {
		fmt.Fprintln(stderr, "multiconn-server: -idle and -write-timeout must be positive, -max-conns zero or more")
		return 2
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "multiconn-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	srv := &multiconn.Server{
		Log:          log.New(stdout, "", 0),
		Quiet:        *quiet,
		IdleTimeout:  *idle,
		WriteTimeout: *writeTimeout,
		MaxConns:     *maxConns,
	}
	stopOnCancel := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopOnCancel()

	err = srv.Serve(ln)
	if !errors.Is(err, multiconn.ErrServerClosed) {
		fmt.Fprintf(stderr, "multiconn-server: %v\n", err)
		return 1
	}
	// Serve returns as soon as its listener is closed, while the
	// connections' goroutines are still hanging up and logging it. Close
	// waits for them, so that the summary comes after every closing line;
	// but not forever, in case one of them cannot finish.
	code := 0
	if !finishes(func() { srv.Close() }, closeWait) {
		fmt.Fprintf(stderr, "multiconn-server: connections still closing after %v\n", closeWait)
		code = 1
	}
	fmt.Fprintf(stdout, "server stopped: %v\n", srv.Stats())
	return code
}

// closeWait bounds the wait for the connections to close once the server
// is stopping.
const closeWait = 5 * time.Second

// finishes runs f and reports whether it returned within d. If it did not,
// f goes on running on a goroutine of its own.
func finishes(f func(), d time.Duration) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-done:
		return true
	case <-timer.C:
		return false
	}
}
