package basic

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"
)

// MaxReply is the most the client reads from a server. A server is free to
// send forever; a client that keeps everything in memory must stop somewhere.
const MaxReply = 64 << 10

// Fetch connects to the server at addr and returns everything it sends
// before it closes the connection. ctx bounds the whole exchange: connecting
// and reading stop when it is cancelled or its deadline passes.
//
// If nothing listens at addr, the error satisfies
// errors.Is(err, syscall.ECONNREFUSED).
func Fetch(ctx context.Context, addr string) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()

	// The context bounds the dial by itself; for the reads, turn its end
	// into a deadline in the past, which wakes a blocked Read at once.
	stop := context.AfterFunc(ctx, func() { conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	// Read until EOF: the server closing the connection ends the reply.
	// One Read could return part of it (see chapter 02).
	reply, err := io.ReadAll(io.LimitReader(conn, MaxReply+1))
	if ctx.Err() != nil {
		return reply, fmt.Errorf("read from %s: %w", addr, context.Cause(ctx))
	}
	if err != nil {
		return reply, fmt.Errorf("read from %s: %w", addr, err)
	}
	if len(reply) > MaxReply {
		return reply[:MaxReply], fmt.Errorf("read from %s: reply is longer than %d bytes", addr, MaxReply)
	}
	return reply, nil
}
