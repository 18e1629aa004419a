package basic_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	basic "example.com/sockets/01-basic-server"
	"example.com/sockets/01-basic-server/internal/testutil"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// fetch is basic.Fetch bounded by the kit's timeout.
func fetch(t *testing.T, addr string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	return basic.Fetch(ctx, addr)
}

// TestServeGreetsEveryClient connects several clients one after the other:
// each gets the whole greeting, then EOF, and the server logs each one.
func TestServeGreetsEveryClient(t *testing.T) {
	for _, clients := range []int{1, 2, 5} {
		t.Run(fmt.Sprintf("%d clients", clients), func(t *testing.T) {
			var logged testutil.Buffer
			srv := &basic.Server{Log: log.New(&logged, "", 0)}
			r := testutil.StartServer(t, srv, basic.ErrServerClosed)

			want := []string{"listening on " + r.Addr}
			for range clients {
				c := testutil.Dial(t, r.Addr)
				got, err := io.ReadAll(c) // until EOF: the server hangs up after greeting
				require.NoError(t, err)
				assert.Equal(t, basic.Greeting, string(got))
				want = append(want, "connection from "+c.LocalAddr().String())
			}
			// The server logs before it greets, so the lines are all there.
			if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(logged.String()), "\n")); diff != "" {
				t.Errorf("server log (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetch(t *testing.T) {
	r := testutil.StartServer(t, &basic.Server{}, basic.ErrServerClosed)
	got, err := fetch(t, r.Addr)
	require.NoError(t, err)
	assert.Equal(t, "Thank you for connecting\n", string(got))
	assert.Len(t, got, 25, "24 characters and a newline")
}

// TestFetchConnectionRefused dials a port where nothing listens: the kernel
// answers the connection attempt with a reset, which Go reports as ECONNREFUSED.
func TestFetchConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // now nothing listens on addr

	_, err := fetch(t, addr)
	require.Error(t, err)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	var opErr *net.OpError
	require.ErrorAs(t, err, &opErr, "the error says which operation failed")
	assert.Equal(t, "dial", opErr.Op)
	assert.Contains(t, err.Error(), addr, "the error names the address")
}

// silentServer accepts connections and hands them to the test, which decides
// what the "server" sends: nothing at all, or too much.
func silentServer(t *testing.T) (addr string, conns <-chan net.Conn) {
	t.Helper()
	ln := testutil.Listen(t)
	ch := make(chan net.Conn, 1)
	go func() {
		defer close(ch)
		if c, err := ln.Accept(); err == nil {
			ch <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close() // ends a pending Accept
		for c := range ch {
			c.Close() // a conn the test did not take
		}
	})
	return ln.Addr().String(), ch
}

func TestFetchStopsWhenContextEnds(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		addr, conns := silentServer(t)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		errc := make(chan error, 1)
		go func() {
			_, err := basic.Fetch(ctx, addr)
			errc <- err
		}()
		c := testutil.Receive(t, conns, "the client to connect")
		defer c.Close()
		cancel() // Fetch is blocked in Read: the server never says a word
		err := testutil.Receive(t, errc, "Fetch to return")
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("deadline", func(t *testing.T) {
		addr, _ := silentServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := basic.Fetch(ctx, addr)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestFetchLimitsTheReply(t *testing.T) {
	addr, conns := silentServer(t)
	errc := make(chan error, 1)
	go func() {
		_, err := fetch(t, addr)
		errc <- err
	}()
	c := testutil.Receive(t, conns, "the client to connect")
	defer c.Close()
	c.SetDeadline(time.Now().Add(testutil.Timeout))
	go func() {
		// A server that never stops talking; the write fails once the
		// client has given up and closed.
		io.Copy(c, zeros{})
	}()
	err := testutil.Receive(t, errc, "Fetch to return")
	assert.ErrorContains(t, err, fmt.Sprintf("reply is longer than %d bytes", basic.MaxReply))
}

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestCloseStopsServe(t *testing.T) {
	testutil.CheckLeaks(t)
	srv := &basic.Server{}
	r := testutil.StartServer(t, srv, basic.ErrServerClosed)
	_, err := fetch(t, r.Addr)
	require.NoError(t, err)

	require.NoError(t, srv.Close())
	assert.ErrorIs(t, r.Wait(t), basic.ErrServerClosed)
	_, err = fetch(t, r.Addr)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED, "the listener is closed")
	assert.NoError(t, srv.Close(), "a second Close is harmless")
}

func TestServeAfterClose(t *testing.T) {
	srv := &basic.Server{}
	require.NoError(t, srv.Close())
	ln := testutil.Listen(t)
	assert.ErrorIs(t, srv.Serve(ln), basic.ErrServerClosed)
	_, err := ln.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "Serve closes the listener it was given")
}

// TestIPv6Loopback serves on [::1]: nothing in the server or client is
// IPv4-specific, because net.Listen and net.Dial take any host:port.
func TestIPv6Loopback(t *testing.T) {
	ln := testutil.ListenIPv6(t) // skips where the machine has no ::1
	r := testutil.StartServerOn(t, ln, &basic.Server{}, basic.ErrServerClosed)
	require.True(t, strings.HasPrefix(r.Addr, "[::1]:"), "address %q", r.Addr)

	got, err := fetch(t, r.Addr)
	require.NoError(t, err)
	assert.Equal(t, basic.Greeting, string(got))
}

// TestServeReportsAcceptErrors: an Accept failure that is not a Close is
// returned, wrapped, rather than ignored.
func TestServeReportsAcceptErrors(t *testing.T) {
	boom := errors.New("boom")
	err := (&basic.Server{}).Serve(failingListener{testutil.Listen(t), boom})
	assert.ErrorIs(t, err, boom)
	assert.ErrorContains(t, err, "accept: boom")
}

type failingListener struct {
	net.Listener
	err error
}

func (l failingListener) Accept() (net.Conn, error) { return nil, l.err }
