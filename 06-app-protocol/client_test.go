package app_test

import (
	"context"
	"errors"
	"log"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

// dialAppClient dials addr with client and closes the Conn at cleanup.
func dialAppClient(t testing.TB, client *app.Client, addr string) *app.Conn {
	t.Helper()
	conn, err := client.Dial(context.Background(), addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return conn
}

// fakeAppServer is a server written by a test: it accepts one connection
// and runs a handler on it, to misbehave in a way the real server never
// does.
type fakeAppServer struct {
	addr     string
	finished chan struct{} // closed once the handler has returned and the connection is closed
}

// startFakeAppServer accepts one connection on a fresh listener and runs
// handle on it, on a goroutine of its own, then closes the connection.
// handle reads requests with dec; stop is closed at cleanup, for a handler
// that must wait until the test is over. handle runs outside the test's
// goroutine: it must report with assert, not require. At cleanup the
// listener is closed and the goroutine waited for.
func startFakeAppServer(t *testing.T, handle func(c net.Conn, dec *message.Decoder, stop <-chan struct{})) *fakeAppServer {
	t.Helper()
	ln := testutil.Listen(t)
	f := &fakeAppServer{addr: ln.Addr().String(), finished: make(chan struct{})}
	stop := make(chan struct{})
	go func() {
		defer close(f.finished)
		c, err := ln.Accept()
		if err != nil {
			return // the test ended without dialling
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(testutil.Timeout))
		handle(c, message.NewDecoder(c), stop)
	}()
	t.Cleanup(func() {
		close(stop)
		ln.Close()
		testutil.Receive(t, f.finished, "the fake server to finish")
	})
	return f
}

// fakeReadRequest reads one request for a fake server and reports a
// failure to the test.
func fakeReadRequest(t *testing.T, dec *message.Decoder) (message.Message, bool) {
	req, err := dec.Decode()
	return req, assert.NoError(t, err, "the fake server reads the request")
}

// The client against the real server: several exchanges on one Conn.
func TestClientDo(t *testing.T) {
	srv := &app.Server{}
	r, _ := startAppServer(t, srv)
	conn := dialAppClient(t, &app.Client{}, r.Addr)
	for _, v := range tutorialVectors {
		resp, err := conn.Do(context.Background(), appMustRequest(t, v.action, v.value))
		require.NoError(t, err, v.name)
		result, isJSON, err := app.Result(resp)
		require.NoError(t, err)
		assert.Equal(t, v.result, result, v.name)
		assert.Equal(t, v.json, isJSON, v.name)
	}
	assert.EqualValues(t, len(tutorialVectors), srv.Stats().Requests, "all on one connection")
}

// A request that cannot be put on the wire is refused before a byte goes
// out, and the Conn stays usable.
func TestClientDoRefusesAMessageItCannotWrite(t *testing.T) {
	srv := &app.Server{}
	r, _ := startAppServer(t, srv)
	conn := dialAppClient(t, &app.Client{}, r.Addr)
	_, err := conn.Do(context.Background(), message.Message{ByteOrder: "little", ContentType: "text/\xff", ContentEncoding: "binary"})
	require.ErrorIs(t, err, message.ErrHeader)
	resp, err := conn.Do(context.Background(), appMustRequest(t, "search", "ring"))
	require.NoError(t, err)
	result, _, err := app.Result(resp)
	require.NoError(t, err)
	assert.Equal(t, ringAnswer, result)
	assert.EqualValues(t, 1, srv.Stats().Requests)
}

// The client's log has the tutorial's lines.
func TestClientLogLines(t *testing.T) {
	appNeedLittleEndian(t)
	r, _ := startAppServer(t, &app.Server{})
	var logs testutil.Buffer
	conn, err := (&app.Client{Log: log.New(&logs, "", 0)}).Dial(context.Background(), r.Addr)
	require.NoError(t, err)
	_, err = conn.Do(context.Background(), appMustRequest(t, "search", "morpheus"))
	require.NoError(t, err)
	_, err = conn.Do(context.Background(), appMustRequest(t, "binary", "hello"))
	require.NoError(t, err)
	require.NoError(t, conn.Close())

	addr := r.Addr
	want := "starting connection to " + addr + "\n" +
		`sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 41}{"action": "search", "value": "morpheus"}' to ` + addr + "\n" +
		`received response {"result": "Follow the white rabbit. 🐰"} from ` + addr + "\n" +
		`sending b'\x00\x7f{"byteorder": "little", "content-type": "binary/custom-client-binary-type", "content-encoding": "binary", "content-length": 11}binaryhello' to ` + addr + "\n" +
		"received binary/custom-server-binary-type response from " + addr + "\n" +
		"closing connection to " + addr + "\n"
	assert.Equal(t, want, logs.String())
}

// What the client says when the server misbehaves.
func TestClientAgainstMisbehavingServers(t *testing.T) {
	tests := []struct {
		name    string
		timeout time.Duration // the Client's; 0 for its default
		handle  func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{})
		check   func(t *testing.T, addr string, err error)
	}{
		{
			name: "closes without answering",
			handle: func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
				fakeReadRequest(t, dec)
			},
			check: func(t *testing.T, addr string, err error) {
				assert.EqualError(t, err, addr+" closed the connection without answering")
			},
		},
		{
			name: "sends a truncated response",
			handle: func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
				if _, ok := fakeReadRequest(t, dec); ok {
					_, err := c.Write([]byte(tutorialVectors[0].response[:60]))
					assert.NoError(t, err)
				}
			},
			check: func(t *testing.T, addr string, err error) {
				assert.ErrorIs(t, err, message.ErrTruncated)
			},
		},
		{
			name:    "never answers",
			timeout: 200 * time.Millisecond,
			handle: func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
				fakeReadRequest(t, dec)
				<-stop
			},
			check: func(t *testing.T, addr string, err error) {
				assert.EqualError(t, err, "no response from "+addr+" within 200ms")
			},
		},
		{
			name: "answers in HTTP",
			handle: func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
				if _, ok := fakeReadRequest(t, dec); ok {
					_, err := c.Write([]byte("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"))
					assert.NoError(t, err)
				}
			},
			check: func(t *testing.T, addr string, err error) {
				assert.ErrorIs(t, err, message.ErrHeader)
			},
		},
		{
			name: "announces too much content",
			handle: func(t *testing.T, c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
				if _, ok := fakeReadRequest(t, dec); ok {
					_, err := c.Write(rawMessage(rawHeader("text/json", "utf-8", "2000000000"), ""))
					assert.NoError(t, err)
				}
			},
			check: func(t *testing.T, addr string, err error) {
				assert.ErrorIs(t, err, message.ErrTooLarge)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakeAppServer(t, func(c net.Conn, dec *message.Decoder, stop <-chan struct{}) { tt.handle(t, c, dec, stop) })
			conn := dialAppClient(t, &app.Client{Timeout: tt.timeout}, f.addr)
			_, err := conn.Do(context.Background(), appMustRequest(t, "search", "morpheus"))
			require.Error(t, err)
			tt.check(t, f.addr, err)
		})
	}
}

// The tutorial's server answers one request per connection and closes:
// the client's second request on the connection says so.
func TestClientOneResponseServer(t *testing.T) {
	f := startFakeAppServer(t, func(c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
		req, ok := fakeReadRequest(t, dec)
		if !ok {
			return
		}
		resp, err := app.Respond(req)
		assert.NoError(t, err)
		assert.NoError(t, message.Write(c, resp))
	})
	conn := dialAppClient(t, &app.Client{}, f.addr)
	resp, err := conn.Do(context.Background(), appMustRequest(t, "search", "ring"))
	require.NoError(t, err)
	result, _, err := app.Result(resp)
	require.NoError(t, err)
	assert.Equal(t, ringAnswer, result)

	testutil.Receive(t, f.finished, "the fake server to close the connection")
	_, err = conn.Do(context.Background(), appMustRequest(t, "search", "morpheus"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), f.addr+" closed the connection after 1 response")
}

// Do returns ctx.Err() when the context ends while it waits for the
// response. The fake server cancels once it has the request, so Do is
// certainly waiting for the answer by then, or about to.
func TestClientDoCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := startFakeAppServer(t, func(c net.Conn, dec *message.Decoder, stop <-chan struct{}) {
		fakeReadRequest(t, dec)
		cancel()
		<-stop
	})
	conn := dialAppClient(t, &app.Client{}, f.addr)
	_, err := conn.Do(ctx, appMustRequest(t, "search", "morpheus"))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, context.Canceled, err, "Do returns ctx.Err() itself")
}

// A context that has already ended stops Do too.
func TestClientDoWithEndedContext(t *testing.T) {
	f := startFakeAppServer(t, func(c net.Conn, dec *message.Decoder, stop <-chan struct{}) { <-stop })
	conn := dialAppClient(t, &app.Client{}, f.addr)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := conn.Do(ctx, appMustRequest(t, "search", "morpheus"))
	assert.ErrorIs(t, err, context.Canceled)
}

// Dialing a port nobody listens on fails with ECONNREFUSED, which callers
// can test with errors.Is.
func TestClientDialRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	var logs testutil.Buffer
	_, err := (&app.Client{Log: log.New(&logs, "", 0)}).Dial(context.Background(), addr)
	require.Error(t, err)
	assert.True(t, errors.Is(err, syscall.ECONNREFUSED), "want ECONNREFUSED: %v", err)
	assert.Equal(t, "starting connection to "+addr+"\n", logs.String())
}

// Repr is what the client logs, so a long request is cut in its lines.
func TestClientLogCutsLongRequests(t *testing.T) {
	r, _ := startAppServer(t, &app.Server{})
	var logs testutil.Buffer
	conn := dialAppClient(t, &app.Client{Log: log.New(&logs, "", 0)}, r.Addr)
	value := strings.Repeat("x", 500)
	_, err := conn.Do(context.Background(), appMustRequest(t, "search", value))
	require.NoError(t, err)
	total := len(appWire(t, appMustRequest(t, "search", value)))
	assert.Regexp(t, `(?m)^sending b'\\x00h\{"byteorder": .{150,}'\.\.\. \(`+strconv.Itoa(total)+` bytes\) to `+regexp.QuoteMeta(r.Addr)+`$`, logs.String())
	assert.Regexp(t, `(?m)^received response \{"result": "No match for 'x+\.\.\. \(\d+ bytes\) from `, logs.String())
}
