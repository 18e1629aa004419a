package multiconn_test

import (
	"bytes"
	"context"
	"io"
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

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/fake"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// defaultMessagesEcho is what each connection of the tutorial's client
// gets back: its two messages, 44 bytes.
const defaultMessagesEcho = "Message 1 from client.Message 2 from client."

// patternedMessage returns n bytes that are not all alike, so that an echo
// with a piece lost, repeated or out of place does not pass for the right
// one.
func patternedMessage(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i % 251)
	}
	return string(b)
}

func TestClientEchoesOnEveryConnection(t *testing.T) {
	tests := []struct {
		name     string
		conns    int
		messages []string
	}{
		{"1 connection", 1, multiconn.DefaultMessages},
		{"10 connections", 10, multiconn.DefaultMessages},
		{"500 connections", 500, multiconn.DefaultMessages},
		{"1 MiB message on 10 connections", 10, []string{patternedMessage(1 << 20)}},
		// 32 MiB is more than the sockets' buffers hold (Linux lets a
		// send buffer grow to 4 MB): the server can echo it only if the
		// client reads while it writes. A client that wrote it all
		// before reading would wait until its Timeout.
		{"32 MiB message on 2 connections", 2, []string{patternedMessage(32 << 20)}},
		{"one byte", 3, []string{"x"}},
		{"UTF-8 and an empty message", 2, []string{"héllo 🐶", "", "\x00\xff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			srv := &multiconn.Server{}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
			total := int64(len(strings.Join(tt.messages, "")))

			res, err := (&multiconn.Client{}).Run(context.Background(), r.Addr, tt.conns, tt.messages)
			require.NoError(t, err, "failures: %v", res.Failures)
			n := int64(tt.conns)
			assert.Equal(t, multiconn.Result{Conns: tt.conns, Succeeded: tt.conns, BytesSent: n * total, BytesReceived: n * total}, res)
			// The server saw every connection and every byte.
			assert.Equal(t, n, srv.Stats().Total)
			assert.Equal(t, n*total, srv.Stats().BytesIn)
		})
	}
}

// The log has the tutorial's lines for each connection. Lines of the two
// connections interleave, so each connection's lines are checked apart.
func TestClientLogsLikeTheTutorial(t *testing.T) {
	r := testutil.StartServer(t, &multiconn.Server{}, multiconn.ErrServerClosed)
	var out bytes.Buffer
	client := &multiconn.Client{Log: log.New(&out, "", 0)}
	_, err := client.Run(context.Background(), r.Addr, 2, multiconn.DefaultMessages)
	require.NoError(t, err)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	for _, n := range []string{"1", "2"} {
		var steps []string // this connection's lines, received ones aside
		var echo string    // what its received lines show, put together
		for _, line := range lines {
			if !strings.HasSuffix(line, " connection "+n) && !strings.HasPrefix(line, "starting connection "+n+" ") {
				continue
			}
			if m := regexp.MustCompile(`^received (".*") from connection \d$`).FindStringSubmatch(line); m != nil {
				piece, err := strconv.Unquote(m[1])
				require.NoError(t, err, line)
				echo += piece
				continue
			}
			steps = append(steps, line)
		}
		assert.Equal(t, []string{
			"starting connection " + n + " to " + r.Addr,
			`sending "Message 1 from client." to connection ` + n,
			`sending "Message 2 from client." to connection ` + n,
			"closing connection " + n,
		}, steps, "connection %s's lines, in order, in:\n%s", n, out.String())
		assert.Equal(t, defaultMessagesEcho, echo, "connection %s's received lines", n)
	}
	// 2 × (starting, 2 × sending, closing) and at least one received each.
	assert.GreaterOrEqual(t, len(lines), 10, out.String())
}

// logLines sends each line a log.Logger writes to lines: a test can
// wait for the client to log something.
type logLines struct{ lines chan string }

func (w logLines) Write(p []byte) (int, error) {
	w.lines <- strings.TrimSuffix(string(p), "\n")
	return len(p), nil
}

// A TCP read is not a message: when the echo comes in two pieces, the
// client reads it in two pieces, and says so.
func TestClientLogsEachRead(t *testing.T) {
	logged := logLines{make(chan string, 100)}
	firstRead := make(chan struct{})
	addr := fake.Server(t, func(c net.Conn) {
		got := make([]byte, len(defaultMessagesEcho))
		if _, err := io.ReadFull(c, got); err != nil {
			return
		}
		c.Write(got[:10])
		select {
		case <-firstRead: // the client has read the first piece: send the rest
			c.Write(got[10:])
		case <-time.After(testutil.Timeout):
		}
		io.Copy(io.Discard, c)
	})

	var received []string
	done := make(chan error, 1)
	go func() {
		_, err := (&multiconn.Client{Log: log.New(logged, "", 0)}).Run(context.Background(), addr, 1, multiconn.DefaultMessages)
		done <- err
	}()
	for {
		line := testutil.Receive(t, logged.lines, "a line from the client")
		if strings.HasPrefix(line, "received ") {
			received = append(received, line)
			if len(received) == 1 {
				close(firstRead)
			}
		}
		if line == "closing connection 1" {
			break
		}
	}
	require.NoError(t, testutil.Receive(t, done, "Run to return"))
	assert.Equal(t, []string{
		`received "Message 1 " from connection 1`,
		`received "from client.Message 2 from client." from connection 1`,
	}, received)
}

// readMessages reads the default messages, 44 bytes, from c.
func readMessages(c net.Conn) ([]byte, bool) {
	got := make([]byte, len(defaultMessagesEcho))
	_, err := io.ReadFull(c, got)
	return got, err == nil
}

func TestClientReportsWhatWentWrong(t *testing.T) {
	tests := []struct {
		name    string
		serve   func(c net.Conn)
		timeout time.Duration
		want    string
	}{
		{
			name: "echoes part and hangs up",
			serve: func(c net.Conn) {
				if got, ok := readMessages(c); ok {
					c.Write(got[:10])
				}
			},
			want: "connection 1: server closed the connection after echoing 10 of 44 bytes",
		},
		{
			name:  "hangs up without a word",
			serve: func(c net.Conn) { readMessages(c) },
			want:  "connection 1: server closed the connection after echoing 0 of 44 bytes",
		},
		{
			name: "changes a byte",
			serve: func(c net.Conn) {
				if got, ok := readMessages(c); ok {
					got[5] ^= 0x20
					c.Write(got)
					io.Copy(io.Discard, c)
				}
			},
			want: "connection 1: echo differs from what was sent at byte 5",
		},
		{
			name: "sends something else",
			serve: func(c net.Conn) {
				readMessages(c)
				io.WriteString(c, "I do not echo, I answer: 42.")
				io.Copy(io.Discard, c)
			},
			want: "connection 1: echo differs from what was sent at byte 0",
		},
		{
			name:    "never answers",
			serve:   func(c net.Conn) { io.Copy(io.Discard, c) },
			timeout: 50 * time.Millisecond,
			want:    "connection 1: no complete echo within 50ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			addr := fake.Server(t, tt.serve)
			var out bytes.Buffer
			client := &multiconn.Client{Log: log.New(&out, "", 0), Timeout: tt.timeout}
			res, err := client.Run(context.Background(), addr, 1, multiconn.DefaultMessages)
			assert.EqualError(t, err, "1 of 1 connection failed")
			assert.Equal(t, 0, res.Succeeded)
			if tt.timeout == 0 { // these servers read everything first
				assert.Equal(t, int64(len(defaultMessagesEcho)), res.BytesSent)
			}
			require.Len(t, res.Failures, 1)
			assert.EqualError(t, res.Failures[0], tt.want)
			// The log says so too, and never that all went well.
			assert.Contains(t, out.String(), "\n"+tt.want+"\n")
			assert.NotContains(t, out.String(), "closing connection")
		})
	}
}

// The client reads the echo and no more: what the server sends after it is
// none of the client's business.
func TestClientReadsNoMoreThanTheEcho(t *testing.T) {
	addr := fake.Server(t, func(c net.Conn) {
		if got, ok := readMessages(c); ok {
			c.Write(append(got, "and more"...))
			io.Copy(io.Discard, c)
		}
	})
	res, err := (&multiconn.Client{}).Run(context.Background(), addr, 1, multiconn.DefaultMessages)
	require.NoError(t, err)
	assert.Equal(t, int64(len(defaultMessagesEcho)), res.BytesReceived)
}

// A server at its MaxConns says it is busy and hangs up: the client
// reports the server's words, not a mangled echo.
func TestClientReportsBusyServer(t *testing.T) {
	tests := []struct {
		name     string
		messages []string
	}{
		{"echo shorter than the busy message", multiconn.DefaultMessages},
		{"echo longer than the busy message", []string{patternedMessage(100)}},
		{"echo that starts like the busy message", []string{"server busy: not really"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := &multiconn.Server{MaxConns: 1}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
			// This connection takes the only place: once its echo is
			// back, the server has admitted it.
			first := testutil.Dial(t, r.Addr)
			_, err := io.WriteString(first, "hi")
			require.NoError(t, err)
			hi := make([]byte, 2)
			_, err = io.ReadFull(first, hi)
			require.NoError(t, err)

			res, err := (&multiconn.Client{}).Run(context.Background(), r.Addr, 1, tt.messages)
			assert.EqualError(t, err, "1 of 1 connection failed")
			require.Len(t, res.Failures, 1)
			assert.EqualError(t, res.Failures[0], "connection 1: server busy: too many connections, try again later")
			assert.Equal(t, int64(1), srv.Stats().Refused)
		})
	}
}

func TestClientConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()

	res, err := (&multiconn.Client{}).Run(context.Background(), addr, 3, multiconn.DefaultMessages)
	assert.EqualError(t, err, "3 of 3 connections failed")
	assert.Equal(t, 0, res.Succeeded)
	assert.Zero(t, res.BytesSent)
	require.Len(t, res.Failures, 3)
	for i, f := range res.Failures {
		assert.ErrorIs(t, f, syscall.ECONNREFUSED)
		assert.EqualError(t, f, "connection "+strconv.Itoa(i+1)+": dial tcp "+addr+": connect: connection refused")
	}
}

// When ctx ends, Run stops every connection at once, however long its
// Timeout, and says why.
func TestClientStopsWhenContextEnds(t *testing.T) {
	testutil.CheckLeaks(t)
	accepted := make(chan struct{}, 3)
	addr := fake.Server(t, func(c net.Conn) {
		accepted <- struct{}{}
		io.Copy(io.Discard, c) // and never answer
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		res multiconn.Result
		err error
	}
	done := make(chan result, 1)
	go func() {
		res, err := (&multiconn.Client{Timeout: time.Hour}).Run(ctx, addr, 3, multiconn.DefaultMessages)
		done <- result{res, err}
	}()
	for range 3 {
		testutil.Receive(t, accepted, "the client's connections")
	}
	cancel()
	got := testutil.Receive(t, done, "Run to return")
	assert.ErrorIs(t, got.err, context.Canceled)
	require.Len(t, got.res.Failures, 3)
	for _, f := range got.res.Failures {
		assert.ErrorIs(t, f, context.Canceled)
	}
}

func TestClientChecksArguments(t *testing.T) {
	tests := []struct {
		name     string
		conns    int
		messages []string
		want     string
	}{
		{"no connections", 0, multiconn.DefaultMessages, "multiconn: 0 connections: need at least 1"},
		{"no messages", 1, nil, "multiconn: no bytes to send: the messages are empty"},
		{"empty messages", 1, []string{"", ""}, "multiconn: no bytes to send: the messages are empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens on port 1: Run must fail before dialing.
			_, err := (&multiconn.Client{}).Run(context.Background(), "127.0.0.1:1", tt.conns, tt.messages)
			assert.EqualError(t, err, tt.want)
		})
	}
}
