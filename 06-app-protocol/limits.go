package app

// The server's limits and timeouts, what they are when left at zero, and
// what a client beyond MaxConns is told. Chapter 02 adds the first of them;
// chapter 05 adds MaxConns and the answer to a client beyond it; this
// chapter adds MaxContent, a timeout for a whole request, and MaxMemory,
// whose budget is in budget.go.

import (
	"fmt"
	"net"
	"time"
)

// Defaults for the zero values of the Server's and Client's fields.
const (
	DefaultIdleTimeout   = time.Minute      // between requests
	DefaultReadTimeout   = 10 * time.Second // for a whole request, from its first byte
	DefaultWriteTimeout  = 10 * time.Second // for a whole response
	DefaultClientTimeout = 10 * time.Second // for a request and its response

	DefaultMaxConns  = 1024     // connections served at once
	DefaultMaxMemory = 64 << 20 // bytes held by requests in progress, all connections together
)

func (s *Server) maxConns() int               { return orDefault(s.MaxConns, DefaultMaxConns) }
func (s *Server) maxMemory() int              { return orDefault(s.MaxMemory, DefaultMaxMemory) }
func (s *Server) idleTimeout() time.Duration  { return orDefault(s.IdleTimeout, DefaultIdleTimeout) }
func (s *Server) readTimeout() time.Duration  { return orDefault(s.ReadTimeout, DefaultReadTimeout) }
func (s *Server) writeTimeout() time.Duration { return orDefault(s.WriteTimeout, DefaultWriteTimeout) }

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// refuse tells a client beyond MaxConns (open connections are open
// already) that the server is busy, in a JSON result, and closes its
// connection.
func (s *Server) refuse(conn net.Conn, open int) {
	s.refused.Add(1)
	s.logf("refused connection from %s: %s open", conn.RemoteAddr(), plural(open, "connection"))
	// The answer is small enough for the socket's send buffer, so this
	// Write does not wait for the client. The deadline makes sure of it.
	conn.SetWriteDeadline(time.Now().Add(time.Second))
	conn.Write(tooManyConns)
	conn.Close()
}

// tooManyConns is the answer to a client beyond MaxConns.
var tooManyConns = errorResponse(fmt.Errorf("%w: too many connections, try again later", ErrBusy))
