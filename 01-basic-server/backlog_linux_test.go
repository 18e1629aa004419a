//go:build linux

package basic_test

// What a full accept queue does to the next client, on Linux: the kernel
// drops its SYN instead of refusing it, so the client's connect waits and
// tries again. A client that gives up first reports a timeout; one that
// leaves it to the kernel gets "connection timed out" (ETIMEDOUT).

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"example.com/sockets/01-basic-server/internal/testutil"
)

// listenBacklog listens on 127.0.0.1 with a backlog of n, as the tutorial's
// s.listen(5) does. net.Listen asks for the system's maximum; on Linux,
// calling listen again on a listening socket only changes its backlog.
func listenBacklog(t *testing.T, n int) *net.TCPListener {
	t.Helper()
	ln := testutil.Listen(t).(*net.TCPListener)
	raw, err := ln.SyscallConn()
	require.NoError(t, err)
	var listenErr error
	require.NoError(t, raw.Control(func(fd uintptr) { listenErr = syscall.Listen(int(fd), n) }))
	require.NoError(t, listenErr)
	return ln
}

// dialWait is how long a connection attempt is given once the queue is
// full: on the loopback interface a handshake takes microseconds, so a dial
// that has not completed by then is waiting for an answer that is not
// coming.
const dialWait = 200 * time.Millisecond

// fillQueue fills the accept queue of a listener on addr that has the given
// backlog and never calls Accept: the kernel completes the handshakes on its
// own and queues the connections, one more than the backlog on Linux. Then
// it tries once more, for dialWait, and returns the error of that attempt.
func fillQueue(t *testing.T, addr string, backlog int) error {
	t.Helper()
	keep := func(c net.Conn) {
		t.Cleanup(func() { c.Close() })
		require.NoError(t, c.SetDeadline(time.Now().Add(testutil.Timeout)))
	}
	for i := range backlog + 1 {
		c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
		require.NoError(t, err, "connection %d should fit in the queue", i+1)
		keep(c)
	}
	// The last handshake's final ACK may still be on its way to the
	// listener; a SYN that overtakes it gets an answer, and its dial
	// completes, though the listener will drop its ACK for want of room.
	// Rare; try again.
	for range 3 {
		c, err := net.DialTimeout("tcp", addr, dialWait)
		if err != nil {
			return err
		}
		keep(c)
		t.Logf("a dial overtook the last handshake; again")
	}
	t.Fatalf("the accept queue of backlog %d never filled", backlog)
	return nil
}

// TestFullAcceptQueueTimesOut listens with the tutorial's backlog of 5 and
// never calls Accept. Linux queues one connection more than the backlog,
// six; the seventh is not refused: the kernel drops its SYN, the client
// waits, and net.DialTimeout gives up with "i/o timeout".
func TestFullAcceptQueueTimesOut(t *testing.T) {
	const backlog = 5
	ln := listenBacklog(t, backlog)

	err := fillQueue(t, ln.Addr().String(), backlog)
	t.Logf("%d connections completed; the next one: %v", backlog+1, err)
	assert.NotErrorIs(t, err, syscall.ECONNREFUSED, "a full queue does not refuse")
	assert.True(t, isDialTimeout(err), "DialTimeout's own bound ended the wait: %v", err)
	assert.NotErrorIs(t, err, syscall.ETIMEDOUT, "the kernel was still trying")

	// The queue holds the connections the kernel completed on its own:
	// Accept returns them, and then has nothing more to return.
	require.NoError(t, ln.SetDeadline(time.Now().Add(testutil.Timeout)))
	for i := range backlog + 1 {
		c, err := ln.Accept()
		require.NoError(t, err, "queued connection %d", i+1)
		c.Close()
	}
	require.NoError(t, ln.SetDeadline(time.Now().Add(dialWait)))
	c, err := ln.Accept()
	if err == nil {
		c.Close()
	}
	assert.ErrorIs(t, err, os.ErrDeadlineExceeded, "the queue held %d connections, no more", backlog+1)
}

// TestConnectTimedOut leaves the waiting to the kernel: with the queue full,
// connect sends its SYN again and again, and when it has tried as often as
// it may, it fails with ETIMEDOUT, "connection timed out", the error the
// tutorial warns about. By default that takes minutes; TCP_USER_TIMEOUT
// and TCP_SYNCNT shorten it to a second or three.
func TestConnectTimedOut(t *testing.T) {
	ln := listenBacklog(t, 0)
	err := fillQueue(t, ln.Addr().String(), 0)
	require.True(t, isDialTimeout(err), "the queue is full: %v", err)

	d := net.Dialer{
		Timeout: testutil.Timeout, // a bound for the test, well above the kernel's
		Control: func(network, address string, c syscall.RawConn) error {
			var err error
			c.Control(func(fd uintptr) {
				// Give up once 100 ms have passed without an
				// answer, at the first retry, after a second
				// (recent kernels apply this to connect too)…
				err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, tcpUserTimeout, 100)
				if err == nil {
					// …or after one retry, about 3 s, where
					// they do not.
					err = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_SYNCNT, 1)
				}
			})
			return err
		},
	}
	_, err = d.Dial("tcp", ln.Addr().String())
	assert.ErrorIs(t, err, syscall.ETIMEDOUT)
	assert.ErrorContains(t, err, "connect: connection timed out")
	assert.False(t, isDialTimeout(err), "the kernel gave up, not Go: %v", err)
	var netErr net.Error
	if assert.ErrorAs(t, err, &netErr) {
		assert.True(t, netErr.Timeout(), "Timeout() is true for the kernel's timeout too")
	}
}

// isDialTimeout reports whether a dial ended at its own time limit (a
// Dialer's Timeout, DialTimeout, or a context's deadline). The error says
// "i/o timeout" either way, but what it wraps depends on which of two
// timers inside Go noticed first: os.ErrDeadlineExceeded or
// context.DeadlineExceeded. Test for both, or ask net.Error's Timeout(),
// which is also true for the kernel's ETIMEDOUT.
func isDialTimeout(err error) bool {
	return errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, context.DeadlineExceeded)
}

// tcpUserTimeout is TCP_USER_TIMEOUT from <linux/tcp.h>, which package
// syscall does not define (golang.org/x/sys/unix does).
const tcpUserTimeout = 0x12
