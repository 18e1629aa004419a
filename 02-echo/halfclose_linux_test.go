package echo

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/02-echo/internal/testutil"
)

// TestCloseWriteAfterReset takes, one step at a time, a path that echo-client
// finds by chance against chapter 01's server, which greets and hangs up
// without reading. The server has closed by the time the client's message
// arrives, so its kernel answers the message with a reset; when the reset
// arrives before the client half-closes, CloseWrite fails with ENOTCONN
// ("transport endpoint is not connected"). That says nothing about the
// server; the client must report what the server did, as it does when the
// half-close comes first.
func TestCloseWriteAfterReset(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	greeted := make(chan struct{})
	go func() {
		defer close(greeted)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		// Chapter 01's server: greet and hang up, reading nothing.
		c.SetDeadline(time.Now().Add(testutil.Timeout))
		io.WriteString(c, "Thank you for connecting\n")
		c.Close()
	}()
	t.Cleanup(func() { ln.Close(); <-greeted })

	conn := &steppedConn{
		TCPConn: testutil.Dial(t, addr),
		steps:   make(chan string),
		proceed: make(chan struct{}),
		over:    make(chan struct{}),
	}
	ctx, cancel := context.WithTimeout(context.Background(), testutil.Timeout)
	type result struct {
		echo []byte
		err  error
	}
	done, exited := make(chan result, 1), make(chan struct{})
	go func() {
		defer close(exited)
		echo, err := exchange(ctx, conn, []byte("Hello, world"))
		done <- result{echo, err}
	}()
	// If a step below fails, the exchange must still end.
	t.Cleanup(func() { close(conn.over); cancel(); <-exited })

	require.Equal(t, "write", testutil.Receive(t, conn.steps, "the client's Write"))
	testutil.Receive(t, greeted, "the server to greet and hang up")
	conn.proceed <- struct{}{} // the message reaches a closed socket
	require.Equal(t, "close write", testutil.Receive(t, conn.steps, "the client's CloseWrite"))
	testutil.WaitFor(t, "the server's reset to arrive", func() bool {
		return tcpState(t, conn.TCPConn) == tcpClose
	})
	conn.proceed <- struct{}{}
	res := testutil.Receive(t, done, "the exchange to end")

	require.ErrorIs(t, conn.closeWriteErr, syscall.ENOTCONN, "the half-close came after the reset")
	assert.Equal(t, "Thank you fo", string(res.echo))
	assert.EqualError(t, res.err, "read from "+addr+": server sent more bytes than were sent to it",
		"the same message as when the half-close comes first")
}

// steppedConn announces each step of the client's writer on steps and takes
// it only when the test sends on proceed.
type steppedConn struct {
	*net.TCPConn
	steps   chan string
	proceed chan struct{}
	over    chan struct{} // closed when the test gives up

	closeWriteErr error // what the real CloseWrite returned
}

var errTestOver = errors.New("the test is over")

func (c *steppedConn) await(step string) error {
	select {
	case c.steps <- step:
	case <-c.over:
		return errTestOver
	}
	select {
	case <-c.proceed:
		return nil
	case <-c.over:
		return errTestOver
	}
}

func (c *steppedConn) Write(p []byte) (int, error) {
	if err := c.await("write"); err != nil {
		return 0, err
	}
	return c.TCPConn.Write(p)
}

func (c *steppedConn) CloseWrite() error {
	if err := c.await("close write"); err != nil {
		return err
	}
	c.closeWriteErr = c.TCPConn.CloseWrite()
	return c.closeWriteErr
}

// tcpClose is TCP_CLOSE, the state of a Linux TCP socket that a reset has
// ended.
const tcpClose = 7

// tcpState returns the state of conn's socket from Linux's struct tcp_info,
// whose first byte is tcpi_state. Asking for just an int's worth of the
// struct is enough, and unlike reading the socket it changes nothing.
func tcpState(t *testing.T, conn *net.TCPConn) byte {
	t.Helper()
	raw, err := conn.SyscallConn()
	require.NoError(t, err)
	var info int
	var infoErr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		info, infoErr = syscall.GetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_INFO)
	}))
	require.NoError(t, infoErr)
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(info))
	return b[0]
}
