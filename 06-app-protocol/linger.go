package app

// How the server closes a connection it gives up on. Chapter 02 adds reset,
// for a client that does not read; chapter 03 adds lingerClose, for one that
// may still be sending. hangUp (hangup.go) picks between them.

import (
	"io"
	"net"
	"time"
)

// lingerClose ends a connection whose client may still be sending, without
// losing what was last written to it. Closing a socket that has unread
// input makes the kernel send a reset (RST) instead of a normal FIN, and a
// reset can destroy data the client has not read yet: the answer that
// says why it is being disconnected. So send FIN first, then read and
// discard what the client still sends until it hangs up too, for at most
// a second or a megabyte: a "lingering close". The caller closes conn.
func lingerClose(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// reset closes conn with a reset (RST) instead of the normal FIN. A client
// that has stopped reading leaves responses it never took in the kernel's
// send buffer; a normal Close queues the FIN behind them, which the client
// never sees, and the kernel keeps the socket and those bytes for minutes
// while the client stays connected. With SO_LINGER at zero, Close throws
// the unsent bytes away and sends RST: the kernel frees the send buffer at
// once, and the client learns the connection is gone as soon as it looks.
func reset(conn net.Conn) {
	if tc, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
