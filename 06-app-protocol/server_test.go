package app_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
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

// The tutorial's answers, as results.
const (
	ringAnswer     = "In the caves beneath the Misty Mountains. 💍"
	morpheusAnswer = "Follow the white rabbit. 🐰"
)

// startAppServer starts srv on a fresh 127.0.0.1:0 listener with its Log
// going to the returned buffer. The server is closed at cleanup, and the
// test fails if Serve then returns anything but app.ErrServerClosed.
func startAppServer(t testing.TB, srv *app.Server) (*testutil.Running, *testutil.Buffer) {
	t.Helper()
	logs := new(testutil.Buffer)
	srv.Log = log.New(logs, "", 0)
	return testutil.StartServer(t, srv, app.ErrServerClosed), logs
}

// startAppServerSmallBuffers is startAppServer with the send buffer of
// each accepted connection cut to 16 KiB (the kernel doubles it), so that
// a client that never reads blocks the server's writes after a few hundred
// responses rather than after the megabytes an autotuned buffer holds.
func startAppServerSmallBuffers(t testing.TB, srv *app.Server) (*testutil.Running, *testutil.Buffer) {
	t.Helper()
	logs := new(testutil.Buffer)
	srv.Log = log.New(logs, "", 0)
	ln := testutil.AcceptHook(testutil.Listen(t), func(c net.Conn) {
		assert.NoError(t, c.(*net.TCPConn).SetWriteBuffer(16<<10))
	})
	return testutil.StartServerOn(t, ln, srv, app.ErrServerClosed), logs
}

// rawAppConn is a test's own end of a connection to an app server: it
// writes bytes as they are and reads messages with a message.Decoder.
type rawAppConn struct {
	*net.TCPConn
	dec *message.Decoder
}

// dialApp connects to addr with testutil.Dial (a deadline of
// testutil.Timeout, closed at cleanup).
func dialApp(t testing.TB, addr string) *rawAppConn {
	t.Helper()
	c := testutil.Dial(t, addr)
	return &rawAppConn{TCPConn: c, dec: message.NewDecoder(c)}
}

// sendRaw writes b, whatever it holds, in one Write.
func (c *rawAppConn) sendRaw(t testing.TB, b []byte) {
	t.Helper()
	_, err := c.Write(b)
	require.NoError(t, err)
}

// readMessage reads the next message and fails the test if there is none.
func (c *rawAppConn) readMessage(t testing.TB) message.Message {
	t.Helper()
	m, err := c.dec.Decode()
	require.NoError(t, err)
	return m
}

// readResult reads the next message and returns its result (app.Result).
func (c *rawAppConn) readResult(t testing.TB) string {
	t.Helper()
	result, _, err := app.Result(c.readMessage(t))
	require.NoError(t, err)
	return result
}

// ask sends the request for ACTION VALUE and returns the result of the
// response.
func (c *rawAppConn) ask(t testing.TB, action, value string) string {
	t.Helper()
	c.sendRaw(t, appWire(t, appMustRequest(t, action, value)))
	return c.readResult(t)
}

// expectEOF checks that the server has closed the connection cleanly:
// the next read is io.EOF, not a reset, and nothing came before it.
func (c *rawAppConn) expectEOF(t testing.TB) {
	t.Helper()
	m, err := c.dec.Decode()
	require.ErrorIs(t, err, io.EOF, "want the server's FIN; got message %+v", m)
	assert.NotErrorIs(t, err, syscall.ECONNRESET)
}

// rawMessage frames header and content as the protocol does, whatever they
// hold: a 2-byte big-endian length of header, header, content.
func rawMessage(header, content string) []byte {
	b := binary.BigEndian.AppendUint16(nil, uint16(len(header)))
	b = append(b, header...)
	return append(b, content...)
}

// rawHeader is the tutorial's JSON header with content-length written as
// the JSON text length.
func rawHeader(contentType, encoding, length string) string {
	return `{"byteorder": "little", "content-type": "` + contentType + `", "content-encoding": "` + encoding + `", "content-length": ` + length + `}`
}

// rawJSONRequest is a text/json request with content as it is.
func rawJSONRequest(content string) []byte {
	return rawMessage(rawHeader("text/json", "utf-8", fmt.Sprint(len(content))), content)
}

// closingLines returns the log's "closing connection to ADDR" lines about
// addr (and no other address that starts like it).
func closingLines(logs string, addr string) []string {
	prefix := "closing connection to " + addr
	var lines []string
	for line := range strings.Lines(logs) {
		line = strings.TrimSuffix(line, "\n")
		if line == prefix || strings.HasPrefix(line, prefix+": ") {
			lines = append(lines, line)
		}
	}
	return lines
}

// waitClosingLine waits until the log has a closing line about addr and
// returns the only one there is.
func waitClosingLine(t testing.TB, logs *testutil.Buffer, addr string) string {
	t.Helper()
	testutil.WaitFor(t, "the closing line of "+addr, func() bool { return len(closingLines(logs.String(), addr)) > 0 })
	lines := closingLines(logs.String(), addr)
	require.Len(t, lines, 1, "closing lines about %s in:\n%s", addr, logs)
	return lines[0]
}

// Several requests one after another on one connection: each answered, in
// order, on the same connection.
func TestServerKeepAlive(t *testing.T) {
	srv := &app.Server{}
	r, logs := startAppServer(t, srv)
	c := dialApp(t, r.Addr)
	for round := range 3 {
		for _, v := range tutorialVectors {
			assert.Equal(t, v.result, c.ask(t, v.action, v.value), "round %d, %s", round, v.name)
		}
	}
	assert.EqualValues(t, 3*len(tutorialVectors), srv.Stats().Requests)
	assert.Empty(t, closingLines(logs.String(), c.LocalAddr().String()), "the connection is still open")
}

// Requests sent all in one Write are answered in order, and so are
// requests that arrive one byte at a time.
func TestServerPipelinedAndChunkedRequests(t *testing.T) {
	var all []byte
	for _, v := range tutorialVectors {
		all = append(all, appWire(t, appMustRequest(t, v.action, v.value))...)
	}
	tests := []struct {
		name  string
		chunk int // > 0: each Write goes out this many bytes at a time
	}{
		{"one write", 0},
		{"1-byte chunks", 1},
		{"7-byte chunks", 7},
	}
	r, _ := startAppServer(t, &app.Server{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dialApp(t, r.Addr)
			var w io.Writer = c
			if tt.chunk > 0 {
				w = testutil.ChunkWrites(c, tt.chunk)
			}
			_, err := w.Write(all)
			require.NoError(t, err)
			for _, v := range tutorialVectors {
				assert.Equal(t, v.result, c.readResult(t), v.name)
			}
			// And the connection still takes more.
			assert.Equal(t, ringAnswer, c.ask(t, "search", "ring"))
		})
	}
}

// A request in 1-byte pieces is parsed across 146 Reads.
func TestServerAnswersARequestSentByteByByte(t *testing.T) {
	r, _ := startAppServer(t, &app.Server{})
	c := dialApp(t, r.Addr)
	_, err := testutil.ChunkWrites(c, 1).Write(appWire(t, appMustRequest(t, "search", "morpheus")))
	require.NoError(t, err)
	assert.Equal(t, morpheusAnswer, c.readResult(t))
}

// The tutorial's log lines for one search, from a client that closes
// after its response as the Python client does: the connection ends
// cleanly, "closing connection to ADDR" with no error after it.
func TestServerLogLines(t *testing.T) {
	appNeedLittleEndian(t)
	r, logs := startAppServer(t, &app.Server{})
	c := dialApp(t, r.Addr)
	assert.Equal(t, morpheusAnswer, c.ask(t, "search", "morpheus"))
	require.NoError(t, c.Close())

	addr := c.LocalAddr().String()
	assert.Equal(t, "closing connection to "+addr, waitClosingLine(t, logs, addr))
	want := "listening on " + r.Addr + "\n" +
		"accepted connection from " + addr + "\n" +
		"received request `{\"action\": \"search\", \"value\": \"morpheus\"}` from " + addr + "\n" +
		`sending b'\x00g{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 43}{"result": "Follow the white rabbit. \xf0\x9f\x90\xb0"}' to ` + addr + "\n" +
		"closing connection to " + addr + "\n"
	assert.Equal(t, want, logs.String())
}

// A binary request is logged by its type, as the tutorial does.
func TestServerLogsBinaryRequests(t *testing.T) {
	r, logs := startAppServer(t, &app.Server{})
	c := dialApp(t, r.Addr)
	assert.Equal(t, "First 10 bytes of request: binaryhell", c.ask(t, "binary", "hello"))
	require.NoError(t, c.Close())
	addr := c.LocalAddr().String()
	waitClosingLine(t, logs, addr)
	assert.Contains(t, logs.String(), "received `binary/custom-client-binary-type` request from "+addr+"\n")
	assert.Contains(t, logs.String(), "First 10 bytes of request: binaryhell' to "+addr+"\n")
}

// Quiet is for load tests: "only the lines about rejected clients and
// errors". A client served without trouble leaves no line at all.
func TestServerQuietLogsOnlyProblems(t *testing.T) {
	r, logs := startAppServer(t, &app.Server{Quiet: true})
	good := dialApp(t, r.Addr)
	assert.Equal(t, ringAnswer, good.ask(t, "search", "ring"))
	require.NoError(t, good.Close())

	bad := dialApp(t, r.Addr)
	bad.sendRaw(t, []byte("GET / HTTP/1.1\r\n\r\n"))
	assert.True(t, app.IsError(bad.readResult(t)))
	bad.expectEOF(t)

	// The good client's lines, if any, were written before its answer.
	badLine := waitClosingLine(t, logs, bad.LocalAddr().String())
	assert.Contains(t, badLine, "rejected: ")
	for line := range strings.Lines(logs.String()) {
		assert.NotContains(t, line, good.LocalAddr().String(), "a quiet server logged a good client")
	}
}

// The Python server never answers an empty binary request (b"" is
// falsy) and spins; this one answers it, and goes on.
func TestServerAnswersAnEmptyRequest(t *testing.T) {
	r, _ := startAppServer(t, &app.Server{})
	c := dialApp(t, r.Addr)
	assert.Equal(t, "First 10 bytes of request: ", c.ask(t, "", ""))
	c.sendRaw(t, rawMessage(rawHeader("binary/custom-client-binary-type", "binary", "0"), ""))
	m := c.readMessage(t)
	assert.Equal(t, message.TypeServerBinary, m.ContentType)
	assert.Equal(t, "First 10 bytes of request: ", string(m.Content))
	assert.Equal(t, ringAnswer, c.ask(t, "search", "ring"))
}

// tlsClientHello is the start of a TLS 1.2+ ClientHello record.
const tlsClientHello = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + "0123456789abcdef0123456789abcdef"

// rejectCase is one malformed input for runRejectCase.
type rejectCase struct {
	name       string
	send       []byte
	goodFirst  int    // good "search ring" requests sent first, in the same Write: the server answers them
	closeWrite bool   // half-close after sending: the stream ends there
	want       string // names the problem, in the result and in the log line
}

// runRejectCase sends tc's bytes to a fresh server (MaxContent 100, long
// timeouts, so the server never waits its way out of a case) and checks
// what a rejected client must see: the answers to its good requests, then
// a JSON response whose result starts with "Error: " and names the
// problem, then a clean EOF (the server's lingering close, not a reset);
// and what the server must do: one "closing connection to ADDR: rejected:
// ..." line, one more in Stats().Rejected, and the other clients, connected
// before and after, served as usual.
func runRejectCase(t *testing.T, tc rejectCase) {
	t.Helper()
	srv := &app.Server{MaxContent: 100, IdleTimeout: time.Minute, ReadTimeout: time.Minute}
	r, logs := startAppServer(t, srv)
	before := dialApp(t, r.Addr)
	require.Equal(t, ringAnswer, before.ask(t, "search", "ring"))

	bad := dialApp(t, r.Addr)
	var out []byte
	for range tc.goodFirst {
		out = append(out, appWire(t, appMustRequest(t, "search", "ring"))...)
	}
	bad.sendRaw(t, append(out, tc.send...))
	if tc.closeWrite {
		require.NoError(t, bad.CloseWrite())
	}
	for i := range tc.goodFirst {
		assert.Equal(t, ringAnswer, bad.readResult(t), "good request %d before the bad bytes", i)
	}
	resp := bad.readMessage(t)
	result, isJSON, err := app.Result(resp)
	require.NoError(t, err)
	assert.True(t, isJSON, "the error is a JSON response")
	assert.True(t, app.IsError(result), "result %q", result)
	assert.Contains(t, result, tc.want)
	bad.expectEOF(t)

	line := waitClosingLine(t, logs, bad.LocalAddr().String())
	assert.True(t, strings.HasPrefix(line, "closing connection to "+bad.LocalAddr().String()+": rejected: "), line)
	assert.Contains(t, line, tc.want)
	assert.EqualValues(t, 1, srv.Stats().Rejected)

	assert.Equal(t, morpheusAnswer, before.ask(t, "search", "morpheus"), "a client connected before")
	after := dialApp(t, r.Addr)
	assert.Equal(t, morpheusAnswer, after.ask(t, "search", "morpheus"), "a client connected after")
	assert.EqualValues(t, 1, srv.Stats().Rejected)
}

func TestServerRejectsMalformedInput(t *testing.T) {
	header := func(length string) []byte { return rawMessage(rawHeader("text/json", "utf-8", length), "") }
	good := appWire(t, appMustRequest(t, "search", "morpheus"))
	tests := []rejectCase{
		{name: "HTTP request", send: []byte("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"), want: "starts with 'T'"},
		{name: "TLS ClientHello", send: []byte(tlsClientHello), want: "bad JSON header: starts with "},
		{name: "empty header", send: []byte("\x00\x00"), want: "bad JSON header: empty"},
		{name: "header not JSON", send: rawMessage(`{"byteorder": "little", oops}`, ""), want: "invalid character 'o'"},
		{name: "header not an object", send: rawMessage(`["little", "text/json"]`, ""), want: "starts with '['"},
		{name: "header not UTF-8", send: rawMessage("{\"byteorder\": \"l\xffttle\", \"content-type\": \"text/json\", \"content-encoding\": \"utf-8\", \"content-length\": 2}", "{}"), want: "not valid UTF-8"},
		{name: "header with trailing bytes", send: rawMessage(rawHeader("text/json", "utf-8", "2")+" {}", "{}"), want: "more after the JSON object"},
		{name: "field missing", send: rawMessage(`{"byteorder": "little", "content-encoding": "utf-8", "content-length": 2}`, "{}"), want: `"content-type" is missing`},
		{name: "field twice", send: rawMessage(`{"byteorder": "little", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2, "content-length": 2}`, "{}"), want: `"content-length" appears twice`},
		{name: "content-type a number", send: rawMessage(`{"byteorder": "little", "content-type": 1, "content-encoding": "utf-8", "content-length": 2}`, "{}"), want: `"content-type" is a number, want a string`},
		{name: "byteorder unknown", send: rawMessage(`{"byteorder": "middle", "content-type": "text/json", "content-encoding": "utf-8", "content-length": 2}`, "{}"), want: `"byteorder" is "middle"`},
		{name: `content-length "41"`, send: header(`"41"`), want: `"content-length" is a string, want a number`},
		{name: "content-length 41.0", send: header("41.0"), want: "content-length 41.0 is not a whole number"},
		{name: "content-length -1", send: header("-1"), want: "content-length -1 is not a whole number"},
		{name: "content-length true", send: header("true"), want: `"content-length" is true or false`},
		{name: "content-length 1e400", send: header("1e400"), want: "content-length 1e400 is not a whole number"},
		{name: "content-length huge", send: header("99999999999999999999"), want: "more than the limit of 100 bytes"},
		// Only the header is sent: the server refuses without waiting
		// for the 101 bytes (its read timeout is a minute).
		{name: "content-length over MaxContent", send: header("101"), want: "content-length 101 is more than the limit of 100 bytes"},
		{name: "unknown content-encoding", send: rawMessage(rawHeader("text/json", "gzip", "2"), "{}"), want: `"content-encoding" "gzip" is not one this protocol knows`},
		{name: "JSON content in binary encoding", send: rawMessage(rawHeader("text/json", "binary", "2"), "{}"), want: "text/json content must be utf-8, not binary"},
		{name: "content not UTF-8", send: rawJSONRequest("{\"action\": \"search\", \"value\": \"\xff\"}"), want: "JSON content is not valid UTF-8"},
		{name: "content not JSON", send: rawJSONRequest("search morpheus"), want: "JSON content"},
		{name: "content not an object", send: rawJSONRequest(`["search", "morpheus"]`), want: "JSON content is an array, want an object"},
		{name: "value not a string", send: rawJSONRequest(`{"action": "search", "value": 7}`), want: `"value" is a number, want a string`},
		{name: "action missing", send: rawJSONRequest(`{"value": "morpheus"}`), want: `no "action"`},
		{name: "value missing", send: rawJSONRequest(`{"action": "search"}`), want: `no "value"`},
		{name: "duplicate key in content", send: rawJSONRequest(`{"action": "search", "value": "a", "value": "b"}`), want: `"value" appears twice`},
		{name: "truncated in the length", send: good[:1], closeWrite: true, want: "truncated message: the stream ended in the 2-byte header length"},
		{name: "truncated in the header", send: good[:50], closeWrite: true, want: "truncated message: the stream ended in the JSON header"},
		{name: "truncated in the content", send: good[:len(good)-1], closeWrite: true, want: "the stream ended in the content, after 40 of 41 bytes"},
		{name: "good requests, then garbage", send: []byte("garbage!"), goodFirst: 2, want: "starts with 'r'"},
		{name: "good request, then truncated", send: good[:10], goodFirst: 1, closeWrite: true, want: "truncated message"},
		{name: "good request, then a bad one", send: rawJSONRequest(`{"action": "search", "value": null}`), goodFirst: 1, want: `"value" is null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { runRejectCase(t, tc) })
	}
}

// A client silent for IdleTimeout is hung up on: EOF, and "idle for" in
// the log. The idle time counts from the last response.
func TestServerIdleTimeout(t *testing.T) {
	srv := &app.Server{IdleTimeout: 200 * time.Millisecond}
	r, logs := startAppServer(t, srv)
	silent := dialApp(t, r.Addr)
	silent.expectEOF(t)
	assert.Equal(t, "closing connection to "+silent.LocalAddr().String()+": idle for 200ms", waitClosingLine(t, logs, silent.LocalAddr().String()))

	served := dialApp(t, r.Addr)
	assert.Equal(t, ringAnswer, served.ask(t, "search", "ring"))
	served.expectEOF(t)
	assert.Equal(t, "closing connection to "+served.LocalAddr().String()+": idle for 200ms", waitClosingLine(t, logs, served.LocalAddr().String()))
	assert.Zero(t, srv.Stats().Rejected, "an idle client is not a bad one")
}

// The read timeout counts from a request's first byte: a client that
// stalls or trickles inside a request is rejected after ReadTimeout, well
// before the idle timeout (a minute; the test connection's own deadline
// is 10s, so a server waiting for the idle timeout fails the test).
func TestServerReadTimeout(t *testing.T) {
	const readTimeout = 200 * time.Millisecond
	good := appWire(t, appMustRequest(t, "search", "morpheus"))

	t.Run("stalls after 3 bytes", func(t *testing.T) {
		srv := &app.Server{IdleTimeout: time.Minute, ReadTimeout: readTimeout}
		r, logs := startAppServer(t, srv)
		c := dialApp(t, r.Addr)
		c.sendRaw(t, good[:3])
		result := c.readResult(t)
		assert.Equal(t, "Error: request not complete after 200ms (3 bytes received).", result)
		c.expectEOF(t)
		assert.Equal(t, "closing connection to "+c.LocalAddr().String()+": rejected: request not complete after 200ms (3 bytes received)",
			waitClosingLine(t, logs, c.LocalAddr().String()))
		assert.EqualValues(t, 1, srv.Stats().Rejected)
	})

	t.Run("stalls after a whole request and 3 bytes", func(t *testing.T) {
		srv := &app.Server{IdleTimeout: time.Minute, ReadTimeout: readTimeout}
		r, _ := startAppServer(t, srv)
		c := dialApp(t, r.Addr)
		c.sendRaw(t, append(append([]byte{}, good...), good[:3]...))
		assert.Equal(t, morpheusAnswer, c.readResult(t))
		assert.Equal(t, "Error: request not complete after 200ms (3 bytes received).", c.readResult(t))
		c.expectEOF(t)
	})

	// A byte every 20ms: each Read comes well within the read timeout,
	// but the request as a whole does not.
	t.Run("trickles", func(t *testing.T) {
		srv := &app.Server{IdleTimeout: time.Minute, ReadTimeout: readTimeout}
		r, logs := startAppServer(t, srv)
		c := dialApp(t, r.Addr)
		stop := make(chan struct{})
		trickled := make(chan int, 1)
		go func() {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			n := 0
			defer func() { trickled <- n }()
			for ; n < len(good); n++ {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
				if _, err := c.Write(good[n : n+1]); err != nil {
					return
				}
			}
		}()
		result := c.readResult(t)
		close(stop)
		n := testutil.Receive(t, trickled, "the trickling goroutine")
		assert.Less(t, n, len(good), "the whole request went out: the server waited too long")
		assert.Regexp(t, `^Error: request not complete after 200ms \(\d+ bytes received\)\.$`, result)
		c.expectEOF(t)
		assert.Regexp(t, `: rejected: request not complete after 200ms`, waitClosingLine(t, logs, c.LocalAddr().String()))
	})
}

// A thousand connections that send nothing do not keep a new client from
// being served, and stay open themselves.
func TestServerManyIdleConnections(t *testing.T) {
	const idle = 1000
	if limit, known := fdLimit(t); known && limit < 2200 {
		t.Skipf("needs 2 descriptors per connection (both ends are in this process): the limit is %d, want at least 2200 (ulimit -n)", limit)
	}
	srv := &app.Server{Quiet: true}
	r, logs := startAppServer(t, srv)
	conns := make([]*rawAppConn, idle)
	for i := range conns {
		conns[i] = dialApp(t, r.Addr)
	}
	late := dialApp(t, r.Addr)
	assert.Equal(t, ringAnswer, late.ask(t, "search", "ring"))
	// The oldest idle connection is still served too.
	assert.Equal(t, morpheusAnswer, conns[0].ask(t, "search", "morpheus"))
	assert.NotContains(t, logs.String(), "closing connection to", "no connection was dropped")
}

// floodTimeout is how long a flooder's Write may wait (demo.Flood) before
// it gives up on a server that does not read: see
// TestServerDropsAClientThatNeverReads for why a flood against the real
// server can end that way.
const floodTimeout = 2 * time.Second

// A client that sends requests and never reads their responses: the
// server's Write blocks once the buffers are full, and after WriteTimeout
// it drops the client with a "write" error. Another client is served
// meanwhile.
func TestServerDropsAClientThatNeverReads(t *testing.T) {
	srv := &app.Server{Quiet: true, WriteTimeout: 200 * time.Millisecond}
	r, logs := startAppServerSmallBuffers(t, srv)
	other := dialApp(t, r.Addr)
	require.Equal(t, ringAnswer, other.ask(t, "search", "ring"))

	// How the flood ends depends on what the flooder's kernel learns, and
	// when. The server hangs up after its write has waited 200ms; if it
	// closes with requests still unread, its kernel sends a reset and the
	// flooder's next Write fails with ECONNRESET or EPIPE (what happens
	// here nearly always). If it closes with nothing unread, no reset goes
	// out then: the flooder learns only when its next segment reaches the
	// closed socket, and a flooder waiting for a window to open may first
	// wait out its timeout (ErrNotReading; seen under load with the
	// default buffer sizes). Either way the flood ends with an error.
	flooder := testutil.Dial(t, r.Addr)
	type floodResult struct {
		sent int64
		err  error
	}
	flooded := make(chan floodResult, 1)
	req := appMustRequest(t, "search", "morpheus")
	go func() {
		sent, err := demo.Flood(context.Background(), flooder, req, floodTimeout)
		flooded <- floodResult{sent, err}
	}()

	testutil.WaitFor(t, "the flood to be under way", func() bool { return srv.Stats().Requests > 100 })
	assert.Equal(t, morpheusAnswer, other.ask(t, "search", "morpheus"), "served while the flood goes on")

	res := testutil.Receive(t, flooded, "the flood to end")
	require.Error(t, res.err, "the server hung up, so the flood ends with an error")
	if !errors.Is(res.err, demo.ErrNotReading) {
		assert.True(t, errors.Is(res.err, syscall.ECONNRESET) || errors.Is(res.err, syscall.EPIPE), "want a reset or broken pipe: %v", res.err)
	}
	assert.Positive(t, res.sent)

	testutil.WaitFor(t, "the drop in the log", func() bool {
		return regexp.MustCompile(`(?m)^closing connection to \S+: write: .*i/o timeout$`).MatchString(logs.String())
	})
	assert.Equal(t, 1, strings.Count(logs.String(), ": write: "), logs.String())
	assert.Zero(t, srv.Stats().Rejected, "a slow reader is not a bad request")
	assert.Equal(t, ringAnswer, other.ask(t, "search", "ring"), "still served after the drop")
}

// Close while clients are connected, one in the middle of a request and
// one idle: Serve returns ErrServerClosed, the clients see the connection
// end, and every goroutine is gone (testutil.Main checks leaks).
func TestServerCloseWithOpenConnections(t *testing.T) {
	srv := &app.Server{}
	logs := new(testutil.Buffer)
	srv.Log = log.New(logs, "", 0)
	r := testutil.StartServer(t, srv, app.ErrServerClosed)

	midRequest := dialApp(t, r.Addr)
	require.Equal(t, ringAnswer, midRequest.ask(t, "search", "ring"))
	midRequest.sendRaw(t, appWire(t, appMustRequest(t, "search", "morpheus"))[:60])
	idle := dialApp(t, r.Addr)
	testutil.WaitFor(t, "both connections to be accepted", func() bool {
		return strings.Contains(logs.String(), "accepted connection from "+idle.LocalAddr().String())
	})

	require.NoError(t, srv.Close())
	require.ErrorIs(t, r.Wait(t), app.ErrServerClosed)
	for _, c := range []*rawAppConn{midRequest, idle} {
		_, err := c.Read(make([]byte, 1))
		assert.True(t, errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET), "want EOF or a reset: %v", err)
		assert.Equal(t, "closing connection to "+c.LocalAddr().String()+": server closing", waitClosingLine(t, logs, c.LocalAddr().String()))
	}
	assert.NoError(t, srv.Close(), "Close twice")
}

// Serve after Close returns ErrServerClosed at once.
func TestServerServeAfterClose(t *testing.T) {
	srv := &app.Server{}
	require.NoError(t, srv.Close())
	assert.ErrorIs(t, srv.Serve(testutil.Listen(t)), app.ErrServerClosed)
}

// failingListener's Accept fails with errno, as the kernel's accept4 would,
// the first fails times it is called; then it accepts.
type failingListener struct {
	net.Listener
	errno syscall.Errno
	fails int
	calls int // only Serve's goroutine calls Accept
}

func (l *failingListener) Accept() (net.Conn, error) {
	if l.calls++; l.calls <= l.fails {
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.Addr(), Err: os.NewSyscallError("accept4", l.errno)}
	}
	return l.Listener.Accept()
}

// Out of descriptors or kernel memory, Accept fails; Serve logs it, tries
// again and serves the next client. Any other Accept error ends Serve,
// and so does a listener closed behind the server's back.
func TestServerRetriesAcceptWhenOutOfResources(t *testing.T) {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM} {
		t.Run(errno.Error(), func(t *testing.T) {
			logs := new(testutil.Buffer)
			ln := &failingListener{Listener: testutil.Listen(t), errno: errno, fails: 2}
			r := testutil.StartServerOn(t, ln, &app.Server{Log: log.New(logs, "", 0)}, app.ErrServerClosed)
			assert.Equal(t, ringAnswer, dialApp(t, r.Addr).ask(t, "search", "ring"))
			line := fmt.Sprintf("accept: accept tcp %s: accept4: %v\n", r.Addr, errno)
			assert.Equal(t, 2, strings.Count(logs.String(), line), logs.String())
		})
	}

	t.Run("another error", func(t *testing.T) {
		ln := &failingListener{Listener: testutil.Listen(t), errno: syscall.EPERM, fails: 1}
		r := testutil.StartServerOn(t, ln, &app.Server{}, syscall.EPERM)
		assert.EqualError(t, r.Wait(t), "accept: accept tcp "+r.Addr+": accept4: operation not permitted")
	})

	t.Run("listener closed", func(t *testing.T) {
		ln := testutil.Listen(t)
		r := testutil.StartServerOn(t, ln, &app.Server{}, net.ErrClosed)
		require.NoError(t, ln.Close())
		err := r.Wait(t)
		assert.ErrorIs(t, err, net.ErrClosed)
		assert.NotErrorIs(t, err, app.ErrServerClosed)
	})
}

// One bad client never hurts another: a good client's 50 requests, made
// while 20 bad clients send garbage, stop in the middle of a request, or
// flood without reading, are all answered correctly; and each bad client
// gets what it deserves.
func TestBadClientsDoNotHurtAGoodOne(t *testing.T) {
	srv := &app.Server{Quiet: true, WriteTimeout: 200 * time.Millisecond, ReadTimeout: time.Second}
	r, _ := startAppServerSmallBuffers(t, srv)
	good := appWire(t, appMustRequest(t, "search", "morpheus"))
	rng := rand.New(rand.NewPCG(6, 6))

	// The bad clients report with assert from their goroutines: wait for
	// them even if the test stops early. Each ends on its own: the server
	// rejects or drops it.
	var wg sync.WaitGroup
	defer wg.Wait()
	const garbage, truncated, flooders = 8, 8, 4
	for i := range garbage + truncated {
		var send []byte
		if i < garbage {
			send = make([]byte, 1+rng.IntN(3000))
			for j := range send {
				send[j] = byte(rng.Uint32())
			}
			send[2] = 'x' // never a header's '{'; the rest is noise
		} else {
			send = good[:1+rng.IntN(len(good)-1)]
		}
		c := dialApp(t, r.Addr)
		wg.Go(func() {
			// Errors are reported with assert: this is not the test's goroutine.
			if _, err := c.Write(send); !assert.NoError(t, err) {
				return
			}
			assert.NoError(t, c.CloseWrite())
			m, err := c.dec.Decode()
			if !assert.NoError(t, err, "bad client %d gets an answer", i) {
				return
			}
			result, _, err := app.Result(m)
			assert.NoError(t, err)
			assert.True(t, app.IsError(result), "bad client %d: %q", i, result)
			_, err = c.dec.Decode()
			assert.ErrorIs(t, err, io.EOF, "bad client %d", i)
		})
	}
	for range flooders {
		conn := testutil.Dial(t, r.Addr)
		req := appMustRequest(t, "binary", "hello")
		wg.Go(func() {
			_, err := demo.Flood(context.Background(), conn, req, floodTimeout)
			assert.Error(t, err, "the server drops a flooder")
		})
	}

	client, err := (&app.Client{}).Dial(context.Background(), r.Addr)
	require.NoError(t, err)
	defer client.Close()
	for i := range 50 {
		v := tutorialVectors[i%len(tutorialVectors)]
		resp, err := client.Do(context.Background(), appMustRequest(t, v.action, v.value))
		require.NoError(t, err, "good request %d", i)
		result, _, err := app.Result(resp)
		require.NoError(t, err)
		assert.Equal(t, v.result, result, "good request %d", i)
	}
	wg.Wait()
	assert.EqualValues(t, garbage+truncated, srv.Stats().Rejected)
}

// rawAppConn's reads see what was written: a sanity check of the helpers
// against the reference bytes, so a failure above is the server's.
func TestRawAppConnHelpers(t *testing.T) {
	appNeedLittleEndian(t)
	assert.Equal(t, tutorialVectors[0].request, string(rawJSONRequest(`{"action": "search", "value": "morpheus"}`)))
	assert.True(t, bytes.HasPrefix([]byte(tutorialVectors[5].request), rawMessage(rawHeader(message.TypeClientBinary, "binary", "11"), "")))
}
