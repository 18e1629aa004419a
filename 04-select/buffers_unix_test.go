//go:build unix

package chat_test

import (
	"cmp"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"example.com/sockets/04-select/internal/testutil"
)

// Small kernel buffers, instead of the megabytes that the kernel lets a
// loopback connection grow to, so that a test knows about how much a
// connection holds. The kernel may round size up (Linux doubles it).

// smallBuffers gives every connection that ln accepts from now on buffers
// of about size bytes each way.
func smallBuffers(t *testing.T, ln net.Listener, size int) {
	raw, err := ln.(*net.TCPListener).SyscallConn()
	require.NoError(t, err)
	require.NoError(t, setBuffers(raw, size, unix.SO_SNDBUF, unix.SO_RCVBUF))
}

// dialSmall is testutil.Dial with a receive buffer of about size bytes, set
// before the connection is made: the window it offers is small from the
// start.
func dialSmall(t *testing.T, addr string, size int) *net.TCPConn {
	d := net.Dialer{Timeout: testutil.Timeout, Control: func(_, _ string, raw syscall.RawConn) error {
		return setBuffers(raw, size, unix.SO_RCVBUF)
	}}
	c, err := d.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	require.NoError(t, c.SetDeadline(time.Now().Add(testutil.Timeout)))
	return c.(*net.TCPConn)
}

func setBuffers(raw syscall.RawConn, size int, opts ...int) error {
	var err error
	cerr := raw.Control(func(fd uintptr) {
		for _, opt := range opts {
			err = cmp.Or(err, unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, size))
		}
	})
	return cmp.Or(cerr, err)
}
