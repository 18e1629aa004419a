package demo_test

import (
	"context"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/demo"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// request is app.NewRequest for arguments that must be valid.
func request(t testing.TB, action, value string) message.Message {
	t.Helper()
	req, err := app.NewRequest(action, value)
	require.NoError(t, err)
	return req
}

// wire is m as it goes on the wire.
func wire(t testing.TB, m message.Message) []byte {
	t.Helper()
	b, err := message.Append(nil, m)
	require.NoError(t, err)
	return b
}

// The tutorial's app-server-test.py: a server that never reads. The
// client's writes fill the buffers and then wait; Flood says so after its
// timeout. Close does not wait for held connections to end by themselves:
// it ends them.
func TestNeverReadServer(t *testing.T) {
	logs := new(testutil.Buffer)
	srv := &demo.NeverReadServer{Log: log.New(logs, "", 0)}
	r := testutil.StartServer(t, srv, app.ErrServerClosed)
	testutil.WaitFor(t, "the listening line", func() bool { return strings.Contains(logs.String(), "(and never reading)") })

	conn := testutil.Dial(t, r.Addr)
	sent, err := demo.Flood(context.Background(), conn, request(t, "search", "morpheus"), 300*time.Millisecond)
	require.ErrorIs(t, err, demo.ErrNotReading)
	assert.Contains(t, err.Error(), "300ms")
	assert.Positive(t, sent)

	// A second, raw connection, held open and unread as well.
	held := testutil.Dial(t, r.Addr)
	_, err = held.Write(wire(t, request(t, "search", "ring")))
	require.NoError(t, err)
	testutil.WaitFor(t, "the held connection to be accepted", func() bool {
		return strings.Contains(logs.String(), "accepted connection from "+held.LocalAddr().String())
	})
	assert.Equal(t, 3, strings.Count(logs.String(), "\n"), "a listening line and two accepted lines, nothing else:\n%s", logs)

	closed := make(chan error, 1)
	go func() { closed <- srv.Close() }()
	require.NoError(t, testutil.Receive(t, closed, "Close to return with connections held"))
	_, err = held.Read(make([]byte, 1))
	require.Error(t, err, "Close ended the held connection")
	assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "want EOF or a reset: %v", err)
	assert.NoError(t, srv.Close(), "Close twice")
}

// Quiet leaves out the lines about accepted connections, as app-server -q
// does for the real server.
func TestNeverReadServerQuiet(t *testing.T) {
	logs := new(testutil.Buffer)
	srv := &demo.NeverReadServer{Log: log.New(logs, "", 0), Quiet: true}
	accepted := make(chan net.Conn, 2)
	ln := testutil.AcceptHook(testutil.Listen(t), func(c net.Conn) { accepted <- c })
	r := testutil.StartServerOn(t, ln, srv, app.ErrServerClosed)
	held := testutil.Dial(t, r.Addr)
	_, err := held.Write(wire(t, request(t, "search", "ring")))
	require.NoError(t, err)
	testutil.Dial(t, r.Addr)
	// Serve accepts one connection at a time: once it takes the second,
	// it has done all it does with the first.
	testutil.Receive(t, accepted, "the first connection to be accepted")
	testutil.Receive(t, accepted, "the second connection to be accepted")

	require.NoError(t, srv.Close())
	_, err = held.Read(make([]byte, 1))
	require.Error(t, err, "Close ended the held connection")
	assert.Equal(t, "listening on "+r.Addr+" (and never reading)\n", logs.String())
}

// Serve after Close returns app.ErrServerClosed at once, as the real
// server's does.
func TestNeverReadServerServeAfterClose(t *testing.T) {
	srv := &demo.NeverReadServer{}
	require.NoError(t, srv.Close())
	assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), app.ErrServerClosed)
}

// Flood ends with its context: it returns ctx.Err() and the bytes sent so
// far. The fake server reads ten requests, then cancels and stops reading,
// so Flood's next Writes block; its timeout is an hour, so only the
// context can end them. ctx may end while Flood is between two Writes,
// after it has checked ctx and before it has pushed the deadline out for
// the next Write: Flood checks ctx again after setting the deadline, for
// that case.
func TestFloodStopsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req := request(t, "search", "morpheus")

	ln := testutil.Listen(t)
	stop, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		c, err := ln.Accept()
		if err != nil {
			return // the test ended without dialling
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testutil.Timeout))
		dec := message.NewDecoder(c)
		for range 10 {
			if _, err := dec.Decode(); !assert.NoError(t, err, "the fake server reads a request") {
				return
			}
		}
		cancel()
		<-stop
	}()
	t.Cleanup(func() {
		close(stop)
		ln.Close()
		testutil.Receive(t, finished, "the fake server to finish")
	})

	conn := testutil.Dial(t, ln.Addr().String())
	type floodResult struct {
		sent int64
		err  error
	}
	flooded := make(chan floodResult, 1)
	go func() {
		sent, err := demo.Flood(ctx, conn, req, time.Hour)
		flooded <- floodResult{sent, err}
	}()
	// If Flood misses the cancellation, conn's Close at cleanup ends it.
	res := testutil.Receive(t, flooded, "Flood to return after its context was cancelled")
	require.ErrorIs(t, res.err, context.Canceled)
	assert.GreaterOrEqual(t, res.sent, int64(10*len(wire(t, req))))
}
