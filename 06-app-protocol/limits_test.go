package app_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
)

// bigRequest is the header of a binary request of n bytes of content,
// and the size the server sets aside for the whole request.
func bigRequest(n int) (header []byte, size int) {
	header = rawMessage(rawHeader("binary/x", "binary", fmt.Sprint(n)), "")
	return header, len(header) + n
}

// MaxMemory bounds what requests in progress hold, all connections
// together. A request takes its whole size as soon as its header is in;
// one that does not fit is answered that the server is busy and closed;
// small requests (4 KiB or less) need nothing and are served whatever the
// budget; a request answered gives its size back.
func TestServerMaxMemory(t *testing.T) {
	const content = 60_000
	header, size := bigRequest(content)
	srv := &app.Server{MaxMemory: size + 100}
	r, logs := startAppServer(t, srv)

	// The first big request, stalled after its header and 10 bytes.
	first := dialApp(t, r.Addr)
	first.sendRaw(t, append(header, strings.Repeat("x", 10)...))
	testutil.WaitFor(t, "the first request to hold its size", func() bool { return srv.Stats().Held == int64(size) })

	// The second does not fit: it is told so, and the connection closed
	// politely (the answer is not lost to a reset).
	second := dialApp(t, r.Addr)
	second.sendRaw(t, append(header, strings.Repeat("y", 1000)...))
	assert.Equal(t, fmt.Sprintf("Error: server busy: not enough memory for a request of %d bytes now, try again later.", size), second.readResult(t))
	second.expectEOF(t)
	assert.Equal(t,
		fmt.Sprintf("closing connection to %s: refused: server busy: not enough memory for a request of %d bytes now, try again later", second.LocalAddr(), size),
		waitClosingLine(t, logs, second.LocalAddr().String()))
	st := srv.Stats()
	assert.EqualValues(t, 1, st.Refused)
	assert.EqualValues(t, size, st.Held, "the first request still holds its size")

	// A small request needs no room: served while the budget is taken.
	small := dialApp(t, r.Addr)
	assert.Equal(t, morpheusAnswer, small.ask(t, "search", "morpheus"))
	assert.Equal(t, "First 10 bytes of request: binaryzzzz", small.ask(t, "binary", strings.Repeat("z", 3900)), "4 KiB in all")

	// The first request, once whole, is answered and gives its room back.
	first.sendRaw(t, []byte(strings.Repeat("x", content-10)))
	assert.Equal(t, "First 10 bytes of request: xxxxxxxxxx", first.readResult(t))
	testutil.WaitFor(t, "the room to be given back", func() bool { return srv.Stats().Held == 0 })

	// Now a big request fits again, and so does one more on the same
	// connection.
	third := dialApp(t, r.Addr)
	for range 2 {
		third.sendRaw(t, append(header, strings.Repeat("w", content)...))
		assert.Equal(t, "First 10 bytes of request: wwwwwwwwww", third.readResult(t))
	}
	assert.EqualValues(t, 1, srv.Stats().Refused)
	assert.Zero(t, srv.Stats().Rejected, "a client refused for want of room is not a bad client")
}

// A connection gives its room back however it ends: the client goes away
// in the middle of its request, or stalls past the read timeout.
func TestServerMaxMemoryGivenBackWhenAClientLeaves(t *testing.T) {
	srv := &app.Server{MaxMemory: 100_000, ReadTimeout: 200 * time.Millisecond}
	r, logs := startAppServer(t, srv)
	header, size := bigRequest(60_000)

	gone := dialApp(t, r.Addr)
	gone.sendRaw(t, append(header, "abc"...))
	testutil.WaitFor(t, "the request to hold its size", func() bool { return srv.Stats().Held == int64(size) })
	require.NoError(t, gone.CloseWrite())
	assert.Contains(t, gone.readResult(t), "truncated message")
	testutil.WaitFor(t, "the room to be given back", func() bool { return srv.Stats().Held == 0 })

	stalled := dialApp(t, r.Addr)
	stalled.sendRaw(t, append(header, "abc"...))
	assert.Contains(t, stalled.readResult(t), "request not complete after 200ms")
	waitClosingLine(t, logs, stalled.LocalAddr().String())
	require.NoError(t, stalled.Close()) // or the server drains it for a second
	testutil.WaitFor(t, "the room to be given back", func() bool { return srv.Stats().Held == 0 })
}

// A big request's share of MaxMemory comes back on every way out: before
// the answer to a request that turns out bad (not after the lingering
// close that follows it, which can take a second), when the client resets
// the connection, and when the server closes.
func TestServerMaxMemoryGivenBackOnEveryPath(t *testing.T) {
	const n = 60_000
	header := rawMessage(rawHeader("text/json", "utf-8", fmt.Sprint(n)), "")
	size := len(header) + n
	tests := []struct {
		name string
		end  func(t *testing.T, srv *app.Server, c *rawAppConn)
	}{
		{"a request that turns out bad", func(t *testing.T, srv *app.Server, c *rawAppConn) {
			c.sendRaw(t, []byte(strings.Repeat("x", n-3))) // not JSON
			assert.Contains(t, c.readResult(t), "Error: ")
			// The answer was written after the share was given back,
			// while the server still lingers for the client's close.
			assert.Zero(t, srv.Stats().Held)
		}},
		{"the client resets", func(t *testing.T, srv *app.Server, c *rawAppConn) {
			require.NoError(t, c.SetLinger(0))
			require.NoError(t, c.Close())
			testutil.WaitFor(t, "the share to be given back", func() bool { return srv.Stats().Held == 0 })
		}},
		{"the server closes", func(t *testing.T, srv *app.Server, c *rawAppConn) {
			require.NoError(t, srv.Close())
			assert.Zero(t, srv.Stats().Held, "once Close has returned")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &app.Server{MaxMemory: 100_000}
			r, _ := startAppServer(t, srv)
			c := dialApp(t, r.Addr)
			c.sendRaw(t, append(header, "xxx"...))
			testutil.WaitFor(t, "the request to hold its size", func() bool { return srv.Stats().Held == int64(size) })
			tt.end(t, srv, c)
		})
	}
}

// MaxConns, as in chapter 05: a client over the limit is told the server
// is busy, in the protocol's JSON error, and disconnected; the server
// logs it; a client that comes once another has left is served.
func TestServerMaxConns(t *testing.T) {
	srv := &app.Server{MaxConns: 2}
	r, logs := startAppServer(t, srv)
	first := dialApp(t, r.Addr)
	assert.Equal(t, ringAnswer, first.ask(t, "search", "ring"))
	second := dialApp(t, r.Addr)
	assert.Equal(t, ringAnswer, second.ask(t, "search", "ring"))

	extra := dialApp(t, r.Addr)
	assert.Equal(t, "Error: server busy: too many connections, try again later.", extra.readResult(t))
	extra.expectEOF(t)
	testutil.WaitFor(t, "the refusal in the log", func() bool {
		return strings.Contains(logs.String(), "refused connection from "+extra.LocalAddr().String()+": 2 connections open\n")
	})

	// The tutorial's client sends its request at once, before it reads
	// anything: it gets the answer all the same.
	conn, err := (&app.Client{}).Dial(context.Background(), r.Addr)
	require.NoError(t, err)
	defer conn.Close()
	resp, err := conn.Do(context.Background(), appMustRequest(t, "search", "ring"))
	require.NoError(t, err)
	result, _, err := app.Result(resp)
	require.NoError(t, err)
	assert.Equal(t, "Error: server busy: too many connections, try again later.", result)
	assert.EqualValues(t, 2, srv.Stats().Refused)

	require.NoError(t, first.Close())
	testutil.WaitFor(t, "the first connection to be gone", func() bool { return srv.Stats().Open == 1 })
	late := dialApp(t, r.Addr)
	assert.Equal(t, morpheusAnswer, late.ask(t, "search", "morpheus"))
	assert.Equal(t, ringAnswer, second.ask(t, "search", "ring"), "the others are still served")
	assert.Zero(t, srv.Stats().Rejected)
}

// The command's flags set both limits.
func TestAppServerCommandLimits(t *testing.T) {
	server, addr := cliServer(t, "-q", "-max-conns", "1", "-max-memory", "10000")
	held := dialApp(t, addr)
	assert.Equal(t, ringAnswer, held.ask(t, "search", "ring"))
	refused := dialApp(t, addr)
	got, err := io.ReadAll(refused)
	require.NoError(t, err)
	assert.Contains(t, string(got), `{"result": "Error: server busy: too many connections, try again later."}`)
	server.WaitOutput("refused connection from " + refused.LocalAddr().String() + ": 1 connection open\n")

	header, size := bigRequest(20_000)
	held.sendRaw(t, header)
	assert.Equal(t, fmt.Sprintf("Error: server busy: not enough memory for a request of %d bytes now, try again later.", size), held.readResult(t))
	held.expectEOF(t)

	server.Interrupt()
	assert.Equal(t, 0, server.Wait())
	assert.True(t, strings.HasSuffix(server.Stdout(), "server stopped: 1 request answered, 0 clients rejected, 2 refused\n"), "stdout:\n%s", server.Stdout())
}
