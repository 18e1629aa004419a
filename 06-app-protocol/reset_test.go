package app_test

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"os"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
)

// notTaking is the server's end of a connection to a client that takes
// nothing: every Write fails as a Write does once the write timeout has
// passed with the client's window shut. Everything else is the real
// connection's, SetLinger and CloseWrite included.
type notTaking struct{ *net.TCPConn }

func (notTaking) Write([]byte) (int, error) { return 0, os.ErrDeadlineExceeded }

// notTakingListener hands the server notTaking connections.
type notTakingListener struct{ net.Listener }

func (l notTakingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return notTaking{c.(*net.TCPConn)}, nil
}

// seesTheEnd checks that c, read from now on, ends within a second: a
// reset, or the server's FIN after what was queued for it, and nothing
// after that second.
func seesTheEnd(t *testing.T, c net.Conn) error {
	t.Helper()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
	_, err := io.Copy(io.Discard, c)
	assert.False(t, errors.Is(err, os.ErrDeadlineExceeded), "the connection had not ended a second after the drop")
	return err
}

// A client that takes nothing the server writes, whatever it is (the
// responses to its requests, the answer that rejects its bad bytes, the
// answer that it does not fit), is dropped with a reset: the server sets
// SetLinger(0) before it closes, so the kernel sends RST at once instead
// of queueing a FIN behind bytes the client will never take. The client
// sees the reset as soon as it reads, not when the kernel gives up.
func TestServerResetsAClientThatTakesNothing(t *testing.T) {
	big := rawMessage(rawHeader("binary/x", "binary", "60000"), "")
	tests := []struct {
		name string
		srv  *app.Server
		send []byte
		line string // after "closing connection to ADDR: "
	}{
		{"its responses", &app.Server{}, rawJSONRequest(`{"action": "search", "value": "ring"}`), "write: i/o timeout"},
		{"the answer to its bad bytes", &app.Server{}, []byte("GET / HTTP/1.1\r\n\r\n"), "rejected: bad JSON header: starts with 'T'"},
		{"the answer that it does not fit", &app.Server{MaxMemory: 10_000}, big, "refused: server busy: not enough memory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			logs := new(testutil.Buffer)
			tt.srv.Log = log.New(logs, "", 0)
			r := testutil.StartServerOn(t, notTakingListener{testutil.Listen(t)}, tt.srv, app.ErrServerClosed)
			c := dialApp(t, r.Addr)
			c.sendRaw(t, tt.send)
			line := waitClosingLine(t, logs, c.LocalAddr().String())
			assert.True(t, strings.HasPrefix(line, "closing connection to "+c.LocalAddr().String()+": "+tt.line), line)
			err := seesTheEnd(t, c)
			assert.ErrorIs(t, err, syscall.ECONNRESET, "a reset, not a polite close")
		})
	}
}

// A real client that stops reading: it sends requests and takes none of
// the responses, until the server's Write has waited WriteTimeout. Within
// a second of the drop the client sees the connection end: it reads what
// reached it, then the reset.
func TestServerResetsAClientThatStopsReading(t *testing.T) {
	srv := &app.Server{Quiet: true, WriteTimeout: 200 * time.Millisecond}
	r, logs := startAppServerSmallBuffers(t, srv)
	c := dialApp(t, r.Addr)
	// Enough requests that their responses overflow the server's send
	// buffer and the client's receive buffer, which does not grow while
	// the client reads nothing.
	requests := bytes.Repeat(rawJSONRequest(`{"action": "search", "value": "ring"}`), 5000)
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(requests)
		sent <- err
	}()

	drop := regexp.MustCompile(`(?m)^closing connection to ` + regexp.QuoteMeta(c.LocalAddr().String()) + `: write: .*i/o timeout$`)
	testutil.WaitFor(t, "the drop", func() bool { return drop.MatchString(logs.String()) })
	err := seesTheEnd(t, c)
	assert.ErrorIs(t, err, syscall.ECONNRESET, "a reset, not a polite close")

	// The client's Write, if it was still waiting, fails on the reset.
	if err := testutil.Receive(t, sent, "the client's Write to return"); err != nil {
		assert.True(t, errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE), "want a reset or broken pipe: %v", err)
	}
}
