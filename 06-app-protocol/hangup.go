package app

// How a connection ends: after the client's EOF, a timeout or an error; and
// for a client that sent something that is not a request, or that the
// server has no room for, with an answer that says why. Chapter 06 adds
// the answers; lingerClose and reset, between which hangUp picks, are in
// linger.go.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"

	"example.com/sockets/06-app-protocol/message"
)

// readFailed ends the connection after a Read error: the client's EOF
// (the normal end, unless it came in the middle of a request), a
// deadline, or a network error.
func (s *Server) readFailed(conn net.Conn, addr string, p *message.Parser, err error) {
	switch {
	case errors.Is(err, io.EOF):
		if terr := p.End(); terr != nil {
			s.reject(conn, addr, errorResponse(terr), terr)
			return
		}
		s.hangUp(conn, addr, nil, justClose)
	case errors.Is(err, os.ErrDeadlineExceeded) && p.Pending() == 0:
		s.hangUp(conn, addr, fmt.Errorf("idle for %v", s.idleTimeout()), justClose)
	case errors.Is(err, os.ErrDeadlineExceeded):
		terr := fmt.Errorf("request not complete after %v (%d bytes received)", s.readTimeout(), p.Pending())
		s.reject(conn, addr, errorResponse(terr), terr)
	default:
		s.hangUp(conn, addr, fmt.Errorf("read: %w", err), justClose)
	}
}

// errorResponse is the JSON result that tells a client why it is being
// disconnected. Every error that quotes what a client sent quotes it
// cut (message.Quote), so the answer is a few hundred bytes at most.
func errorResponse(err error) []byte {
	content, _ := message.AppendObject(nil, "result", "Error: "+err.Error()+".")
	b, _ := message.Append(nil, jsonMessage(content))
	return b
}

// reject ends a connection whose client sent something that is not a
// request, or a request the server has no room for (ErrBusy: the client
// is refused, not rejected): it sends out (the responses due, the last
// one saying what was wrong) if the client still listens, logs one line,
// and hangs up: politely if the client took the answer, with a reset if
// it did not.
func (s *Server) reject(conn net.Conn, addr string, out []byte, why error) {
	verdict := "rejected"
	if errors.Is(why, ErrBusy) {
		s.refused.Add(1)
		verdict = "refused"
	} else {
		s.rejected.Add(1)
	}
	// A client that sent garbage may not read either: a short deadline.
	conn.SetWriteDeadline(time.Now().Add(min(time.Second, s.writeTimeout())))
	how := linger
	if _, err := conn.Write(out); err != nil {
		how = abort // it is not reading: see abort
	}
	s.hangUp(conn, addr, fmt.Errorf("%s: %w", verdict, why), how)
}

// How hangUp closes a connection.
const (
	justClose = iota
	// linger: the client may still be sending, and closing with unread
	// bytes in the socket sends a reset, which can destroy the last
	// response before the client reads it: see lingerClose.
	linger
	// abort: a write failed (the client took nothing for the whole
	// write timeout), so there is no response left to protect, and a
	// polite close would leave the socket and the bytes the client is
	// not taking in the kernel for minutes: see reset.
	abort
)

// hangUp ends handleConn: it logs why the connection ends (nil: the client
// was done), forgets it, and closes it the way how says. The line comes
// first, so that once the client sees the connection close, the log
// already says why.
func (s *Server) hangUp(conn net.Conn, addr string, why error, how int) {
	switch {
	case why == nil:
		if !s.Quiet {
			s.logf("closing connection to %s", addr)
		}
	case s.isClosed():
		s.logf("closing connection to %s: server closing", addr)
	default:
		s.logf("closing connection to %s: %v", addr, why)
	}
	closing := s.isClosed() // Close is closing conn: nothing to protect
	if how == linger && !closing {
		lingerClose(conn)
	}
	s.untrackConn(conn)
	if how == abort && !closing {
		reset(conn)
		return
	}
	conn.Close()
}
