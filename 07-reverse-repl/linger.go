package reverse

// How the server closes a connection whose client may still be sending,
// without destroying the answer. Chapter 03 added lingerClose; here it also
// counts what it discards, for the log.

import (
	"io"
	"net"
	"time"
)

// lingerClose half-closes conn, so that the client reads the answer and then
// EOF, and reads and discards what the client still sends until it closes
// its side, for at most a second or a megabyte. It returns how many bytes it
// discarded.
func lingerClose(conn net.Conn) int64 {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	n, _ := io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
	return n
}
