package chat_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/internal/testutil"
)

// chatWith is Client.Chat bounded by the kit's timeout.
func chatWith(t *testing.T, c *chat.Client, addr, in string, out io.Writer) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	defer cancel()
	return c.Chat(ctx, addr, strings.NewReader(in), out)
}

func TestChat(t *testing.T) {
	r := testutil.StartServer(t, &chat.Server{}, chat.ErrServerClosed)
	listener := join(t, r.Addr)

	var out bytes.Buffer
	require.NoError(t, chatWith(t, &chat.Client{}, r.Addr, "hello\nhow are you\n", &out))
	assert.Equal(t, "OK ... hello\nOK ... how are you\n", out.String())

	// What the listener heard tells the client's address.
	first := listener.readLine()
	from := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(first)[0], "<"), ">")
	assert.Equal(t, "<"+from+"> hello", first)
	listener.expect("<"+from+"> how are you", "Client "+from+" is offline")
}

// The client prints what the room says while it waits for its own input.
func TestChatPrintsWhileWaitingForInput(t *testing.T) {
	r := testutil.StartServer(t, &chat.Server{}, chat.ErrServerClosed)
	a := join(t, r.Addr)

	in, w := io.Pipe()
	defer w.Close()
	var out testutil.Buffer
	done := make(chan error, 1)
	go func() { done <- (&chat.Client{}).Chat(context.Background(), r.Addr, in, &out) }()
	_, err := io.WriteString(w, "hi\n")
	require.NoError(t, err)
	testutil.WaitFor(t, "the client's OK", func() bool { return out.String() == "OK ... hi\n" })
	a.readLine() // the client's hi

	a.say("anyone?")
	testutil.WaitFor(t, "the client to print a's line", func() bool {
		return out.String() == "OK ... hi\n"+a.said("anyone?")+"\n"
	})
	require.NoError(t, w.Close())
	assert.NoError(t, testutil.Receive(t, done, "Chat to return"))
}

// fakeServer accepts one connection and hands it to serve; it is how the
// client's tests get servers that misbehave. The connection is closed when
// serve returns; testDone is closed when the test is over.
func fakeServer(t *testing.T, serve func(c net.Conn, testDone <-chan struct{})) string {
	t.Helper()
	ln := testutil.Listen(t)
	testDone, served := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(served)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(testutil.Timeout))
		serve(conn, testDone)
	}()
	t.Cleanup(func() {
		close(testDone)
		ln.Close()
		testutil.Receive(t, served, "the fake server to finish")
	})
	return ln.Addr().String()
}

func TestChatErrors(t *testing.T) {
	t.Run("server hangs up first", func(t *testing.T) {
		addr := fakeServer(t, func(c net.Conn, _ <-chan struct{}) { io.WriteString(c, "bye\n") })
		in, w := io.Pipe()
		defer w.Close() // ends the goroutine that reads in
		var out testutil.Buffer
		err := (&chat.Client{}).Chat(context.Background(), addr, in, &out)
		assert.EqualError(t, err, addr+" closed the connection")
		assert.Equal(t, "bye\n", out.String())
	})
	t.Run("server does not hang up after we leave", func(t *testing.T) {
		addr := fakeServer(t, func(c net.Conn, testDone <-chan struct{}) {
			io.Copy(io.Discard, c)
			<-testDone
		})
		err := chatWith(t, &chat.Client{Timeout: 50 * time.Millisecond}, addr, "hello\n", io.Discard)
		assert.EqualError(t, err, "read from "+addr+": still open 50ms after we left: i/o timeout")
	})
	t.Run("canceled", func(t *testing.T) {
		r := testutil.StartServer(t, &chat.Server{}, chat.ErrServerClosed)
		in, w := io.Pipe()
		defer w.Close()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- (&chat.Client{}).Chat(ctx, r.Addr, in, io.Discard) }()
		cancel()
		err := testutil.Receive(t, done, "Chat to return")
		// Canceled while dialing, or once connected.
		assert.ErrorIs(t, err, context.Canceled)
	})
	t.Run("connection refused", func(t *testing.T) {
		ln := testutil.Listen(t)
		addr := ln.Addr().String()
		require.NoError(t, ln.Close())
		err := chatWith(t, &chat.Client{}, addr, "hello\n", io.Discard)
		assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	})
}
