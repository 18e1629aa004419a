package echo

// Chapter 02 adds this file: how a server drops a client it gives up on.
// Chapters 03 to 06 drop clients the same way.

import "net"

// reset drops conn with a reset (RST) instead of the normal FIN. A client
// that is dropped for not reading leaves echoes it never took in the
// kernel's send buffer; a normal Close queues the FIN behind them, and the
// kernel keeps the socket and its buffer, megabytes of it, for minutes
// while the client stays connected. With SO_LINGER at zero, Close throws the
// unsent bytes away and sends RST: the socket is freed at once, and the
// client learns it was dropped. (The deferred Close that follows is a
// no-op.)
func reset(conn net.Conn) {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
