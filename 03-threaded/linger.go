package threaded

// How a conversation ends: the last line the server sends, and how it hangs
// up. Chapter 02 added reset, for a client that is dropped; chapter 03 adds
// the last line (Goodbye, or that a line is too long) and lingerClose, so
// that the client gets that line.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Why a client was disconnected, other than an error from the network.
var (
	errLineTooLong  = errors.New("line too long")
	errShuttingDown = errors.New("server shutting down")
)

// lastWords is the end of talk: err is the Scanner's error, nil at EOF. It
// sends the client the reason it is disconnected, when it has one to send,
// and returns why talk ended: nil if the client closed its side.
func (s *Server) lastWords(conn net.Conn, err error) error {
	switch {
	case s.isClosed():
		s.send(conn, Goodbye) // best effort: the client may be gone
		return errShuttingDown
	case errors.Is(err, bufio.ErrTooLong):
		limit := s.maxLineLength()
		s.send(conn, fmt.Sprintf("error: line longer than %d bytes\n", limit))
		return fmt.Errorf("%w: more than %d bytes", errLineTooLong, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no line for %v", s.timeout())
	}
	return err // nil at EOF: the client is done
}

// hangUp logs that conn's client leaves, after how many lines and why (err
// from talk), and closes conn as that reason needs.
func (s *Server) hangUp(conn net.Conn, lines int, err error) {
	peer := conn.RemoteAddr()
	if err == nil {
		s.logf("%s disconnected after %s", peer, count(lines))
		conn.Close()
		return
	}
	s.logf("%s: %v; disconnected after %s", peer, err, count(lines))
	switch {
	case errors.Is(err, errLineTooLong) || errors.Is(err, errShuttingDown):
		// The client may have sent more than we read; see lingerClose.
		lingerClose(conn)
		conn.Close()
	default:
		// A timeout, or a broken connection: the client may have
		// stopped reading, and our replies may still be waiting for
		// it in the kernel. See reset.
		reset(conn)
	}
}

// count says "1 line" or "n lines".
func count(n int) string {
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}

// lingerClose ends a connection whose client may still be sending, without
// losing what was last written to it. Closing a socket that has unread
// input makes the kernel send a reset (RST) instead of a normal FIN, and a
// reset can destroy data the client has not read yet: the error line, or
// Goodbye. So send FIN first, then read and discard what the client still
// sends until it hangs up too, for at most a second or a megabyte.
func lingerClose(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// reset ends a connection with a reset (RST) instead of the normal FIN. A
// client that has stopped reading leaves our last replies in the kernel's
// send buffer, up to a few megabytes of them. A normal Close queues the FIN
// behind those bytes, which the client never takes: the kernel keeps the
// socket and its buffer for minutes while the client stays connected, and the
// client, which is not reading, never learns that it was dropped. With
// SO_LINGER set to zero, Close throws the unsent bytes away and sends RST:
// the socket is freed at once, and the client's next read fails with
// "connection reset by peer".
func reset(conn net.Conn) {
	if tc, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
