package demo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"example.com/sockets/06-app-protocol/message"
)

// ErrNotReading is returned by Flood when a write has waited for the
// whole timeout: the server is not reading.
var ErrNotReading = errors.New("the server is not reading")

// Flood sends req on conn over and over and never reads a response: the
// tutorial's app-client-test.py. Against a server that does not read, the
// kernel's buffers fill, and then a Write waits. Flood returns
// ErrNotReading, with the number of bytes the kernel took, once a Write
// has waited for timeout; ctx's error once ctx ends; or the error that
// stopped it, such as the server hanging up.
func Flood(ctx context.Context, conn net.Conn, req message.Message, timeout time.Duration) (sent int64, err error) {
	b, err := message.Append(nil, req)
	if err != nil {
		return 0, err
	}
	stop := context.AfterFunc(ctx, func() { conn.SetWriteDeadline(time.Now()) })
	defer stop()
	for {
		conn.SetWriteDeadline(time.Now().Add(timeout))
		if ctx.Err() != nil {
			// ctx ended since the last Write, maybe just before the line
			// above pushed the deadline out again: pull it back in.
			conn.SetWriteDeadline(time.Now())
		}
		n, err := conn.Write(b)
		sent += int64(n)
		switch {
		case err == nil:
			continue
		case ctx.Err() != nil:
			return sent, ctx.Err()
		case errors.Is(err, os.ErrDeadlineExceeded):
			return sent, fmt.Errorf("%w: a write waited %v, after %d bytes", ErrNotReading, timeout, sent)
		}
		return sent, err
	}
}
