package multiconn

// The server's limits, and what it does when they are left at zero.
// Chapter 02 added a timeout and a buffer size, and chapters 03 and 04
// limits of their own. This chapter has two timeouts (a client may stay
// silent for a minute, but must take its echo within seconds), buffers
// sized for ten thousand idle connections, and the course's first limit on
// how many clients may be connected at once: MaxConns.

import (
	"net"
	"time"
)

// DefaultIdleTimeout is how long a client may send nothing before the server
// hangs up on it, as the tutorial advises.
const DefaultIdleTimeout = time.Minute

// DefaultWriteTimeout is how long the server waits for a client to take an
// echo before it hangs up on it.
const DefaultWriteTimeout = 10 * time.Second

// Buffer sizes: a connection waits for data with a small buffer and reads
// with a big one, from a pool, only while data keeps coming. See
// handleConn.
const (
	smallBuffer = 512
	bigBuffer   = 64 << 10
)

// BusyMessage is what a client is told, before the server hangs up, when
// MaxConns connections are open already.
const BusyMessage = "server busy: too many connections, try again later\n"

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func (s *Server) idleTimeout() time.Duration { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }

func (s *Server) writeTimeout() time.Duration { return orDefault(s.WriteTimeout, DefaultWriteTimeout) }

// refuse turns conn away if MaxConns connections are open already, and
// reports whether it did: the client is told BusyMessage, and its
// connection closed. Only Serve's goroutine adds connections, so none can
// be added between this count and trackConn; one may leave, which only
// makes room. Only the count is taken under s.mu: logging and writing to
// a refused client happen after, so that neither can hold up the other
// connections. (A closed server is left to trackConn, which turns
// everyone away without a word.)
func (s *Server) refuse(conn net.Conn) bool {
	if s.MaxConns <= 0 {
		return false
	}
	s.mu.Lock()
	open, closed := len(s.conns), s.closed
	s.mu.Unlock()
	if closed || open < s.MaxConns {
		return false
	}

	s.refused.Add(1)
	s.logf("refused connection from %s: %s open", conn.RemoteAddr(), plural(open, "connection"))
	// The message is small enough for the socket's send buffer, so this
	// Write does not wait for the client. The deadline makes sure of it.
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write([]byte(BusyMessage))
	conn.Close()
	return true
}
