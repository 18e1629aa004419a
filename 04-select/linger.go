package chat

// How the server hangs up on a client. Chapter 02 added reset, for a client
// that is dropped, and chapter 03 the lingering close, so that a client
// disconnected for a line too long still gets the error line; here the
// writer sends that line and the FIN, and the reader drains.

import (
	"io"
	"net"
	"time"
)

// reset disconnects conn at once, with a reset (RST) rather than the usual
// FIN: it is for a client that is not reading, or whose connection failed.
// A FIN would wait behind every byte the client has not read yet, and the
// kernel would keep the socket and its send buffer until it had.
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // Close discards unsent data and sends RST
	}
	conn.Close()
}

// closeWrite half-closes conn: FIN, which the client reads as EOF, after
// everything written before it.
func closeWrite(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// drain reads and throws away what the client still sends, for at most a
// second or a megabyte, while the writer sends the last line and FIN.
// Closing a socket with unread input makes the kernel answer with a reset,
// which could destroy that last line before the client reads it.
func drain(conn net.Conn) {
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}
