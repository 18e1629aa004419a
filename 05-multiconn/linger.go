package multiconn

// How the server drops a client it gives up on. Chapter 02 added reset;
// here it drops a client that stays silent (IdleTimeout), that does not
// take its echo (WriteTimeout), or whose connection fails.

import "net"

// reset ends a connection with a reset (RST) instead of the normal FIN.
// The server drops a client when it stays idle, when it does not take its
// echo, or when the connection fails; a client that has stopped reading
// has left its echo in the kernel's send buffer, up to a few megabytes of
// it. A normal Close queues the FIN behind those bytes, which the client
// never takes: the kernel keeps the socket and its buffer for minutes
// while the client stays connected, and the client, not reading, never learns
// that it was dropped. With SO_LINGER set to zero, Close throws the unsent
// bytes away and sends RST: the socket is freed at once, and the client's
// next read fails with "connection reset by peer".
func reset(nc net.Conn) {
	if tc, ok := nc.(interface{ SetLinger(sec int) error }); ok {
		tc.SetLinger(0)
	}
	nc.Close()
}
