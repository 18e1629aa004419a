// Command app-server answers the tutorial's search requests over the
// length + JSON header protocol, byte for byte as app-server.py does, and
// keeps a connection open for more requests. Like the tutorial's server it
// takes the address as HOST PORT; -addr does the same. Ctrl-C stops it: it
// hangs up on every client, then prints a summary.
//
// With -never-read it accepts connections and never reads them: the
// tutorial's app-server-test.py, for watching the kernel's buffers fill
// (demo.NeverReadServer). -q still applies then; the limits and timeouts,
// which are the real server's, do not.
//
//	usage: app-server [-q] [-max-content bytes] [-max-conns n] [-max-memory bytes] [-idle d] [-read-timeout d] [-write-timeout d] [-never-read] [-addr host:port | HOST PORT]
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

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/demo"
	"example.com/sockets/06-app-protocol/message"
)

func main() {
	// Ctrl-C (SIGINT) or SIGTERM cancels ctx, and run stops the server.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("app-server", flag.ContinueOnError)
	flags.SetOutput(stderr)
	addr := flags.String("addr", app.DefaultAddr, "listen on `host:port`")
	quiet := flags.Bool("q", false, "quiet: log only rejected clients and errors, for load tests")
	maxContent := flags.Int("max-content", message.DefaultMaxContent, "refuse a request whose content-length is above this many `bytes`")
	maxConns := flags.Int("max-conns", app.DefaultMaxConns, "refuse clients beyond `n` open connections")
	maxMemory := flags.Int("max-memory", app.DefaultMaxMemory, "refuse requests that do not fit in this many `bytes`, all requests in progress together")
	idle := flags.Duration("idle", app.DefaultIdleTimeout, "disconnect a client that sends no request for this `duration`")
	readTimeout := flags.Duration("read-timeout", app.DefaultReadTimeout, "disconnect a client whose request is not all in this `duration` after its first byte")
	writeTimeout := flags.Duration("write-timeout", app.DefaultWriteTimeout, "disconnect a client that does not take a response for this `duration`")
	neverRead := flags.Bool("never-read", false, "demonstration: accept connections and never read them, like the tutorial's app-server-test.py")
	flags.Usage = func() {
		fmt.Fprintln(flags.Output(), "usage: app-server [-q] [-max-content bytes] [-max-conns n] [-max-memory bytes] [-idle d] [-read-timeout d] [-write-timeout d] [-never-read] [-addr host:port | HOST PORT]")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usageError := func(format string, args ...any) int {
		fmt.Fprintf(stderr, "app-server: "+format+"\n", args...)
		flags.Usage()
		return 2
	}
	switch flags.NArg() {
	case 0:
	case 2: // the tutorial's way: app-server 127.0.0.1 65432
		*addr = net.JoinHostPort(flags.Arg(0), flags.Arg(1))
	default:
		return usageError("want HOST PORT, or no arguments; got %q", flags.Args())
	}
	if *maxContent <= 0 || *maxConns <= 0 || *maxMemory <= 0 || *idle <= 0 || *readTimeout <= 0 || *writeTimeout <= 0 {
		return usageError("-max-content, -max-conns, -max-memory and the timeouts must be positive")
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "app-server: %v\n", err)
		if errors.Is(err, syscall.EADDRINUSE) {
			fmt.Fprintf(stderr, "is another server already running? Stop it, or pick another port with -addr\n")
		}
		return 1
	}

	logger := log.New(stdout, "", 0)
	appServer := &app.Server{
		Log:          logger,
		Quiet:        *quiet,
		MaxContent:   *maxContent,
		MaxConns:     *maxConns,
		MaxMemory:    *maxMemory,
		IdleTimeout:  *idle,
		ReadTimeout:  *readTimeout,
		WriteTimeout: *writeTimeout,
	}
	var srv interface {
		Serve(net.Listener) error
		Close() error
	} = appServer
	if *neverRead {
		// The demonstration serves instead, and appServer, left unused,
		// counts nothing: the summary says so.
		srv = &demo.NeverReadServer{Log: logger, Quiet: *quiet}
	}
	stopOnCancel := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopOnCancel()

	err = srv.Serve(ln)
	if !errors.Is(err, app.ErrServerClosed) {
		fmt.Fprintf(stderr, "app-server: %v\n", err)
		return 1
	}
	// Serve returns as soon as its listener is closed, while the
	// connections' goroutines are still hanging up and logging it. Close
	// waits for them, so that the summary comes after every closing line
	// and no line is lost to the exit; but not forever, in case one of
	// them cannot finish.
	code := 0
	if !finishes(func() { srv.Close() }, closeWait) {
		fmt.Fprintf(stderr, "app-server: connections still closing after %v\n", closeWait)
		code = 1
	}
	st := appServer.Stats()
	fmt.Fprintf(stdout, "server stopped: %s answered, %s rejected, %d refused\n",
		plural(st.Requests, "request"), plural(st.Rejected, "client"), st.Refused)
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

// plural says "1 request" or "n requests".
func plural(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
