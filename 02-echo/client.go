package echo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// DefaultMessage is what the client sends when given nothing else.
const DefaultMessage = "Hello, world"

// Echo connects to the echo server at addr, sends msg and returns what the
// server sends back. ctx bounds the whole exchange.
//
// It writes and reads at the same time: a client that writes a big message
// before it reads anything fills the server's send buffer and its own, and
// both sides wait for each other forever. Once msg is sent, Echo half-closes
// the connection (CloseWrite), which the server sees as EOF; then it reads
// until the server closes in turn. The echo must be exactly len(msg) bytes.
func Echo(ctx context.Context, addr string, msg []byte) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()
	return exchange(ctx, conn.(*net.TCPConn), msg)
}

// halfCloser is a connection that can close its sending side alone: a
// *net.TCPConn, or in a test one that decides when each step happens.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

func exchange(ctx context.Context, conn halfCloser, msg []byte) ([]byte, error) {
	// When ctx ends, a deadline in the past wakes any blocked Read or Write.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	fail := func(op string, err error) error {
		if ctx.Err() != nil {
			err = context.Cause(ctx)
		}
		return fmt.Errorf("%s %s: %w", op, conn.RemoteAddr(), err)
	}

	sent := make(chan error, 1)
	go func() {
		_, err := conn.Write(msg) // all of msg, or an error
		if err == nil {
			// Half-close: "I am done sending", yet still able to read.
			err = conn.CloseWrite()
			if errors.Is(err, syscall.ENOTCONN) {
				// The server has reset the connection already:
				// there is nothing left to half-close, and the
				// reader, which still gets what the server sent
				// first, says better what the server did.
				err = nil
			}
		}
		sent <- err
	}()

	// The echo is exactly as long as the message: io.ReadFull keeps
	// calling Read until it has len(msg) bytes, however they arrive.
	echo := make([]byte, len(msg))
	n, err := io.ReadFull(conn, echo)
	if err != nil {
		conn.Close() // unblocks the writer, if it is still writing
		<-sent
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
			return echo[:n], fail("read from", fmt.Errorf("server closed the connection after echoing %d of %d bytes", n, len(msg)))
		}
		return echo[:n], fail("read from", err)
	}
	if err := <-sent; err != nil {
		return echo, fail("write to", err)
	}
	// After the echo the server should hang up: anything more is not ours.
	if extra, err := conn.Read(make([]byte, 1)); extra > 0 {
		return echo, fail("read from", errors.New("server sent more bytes than were sent to it"))
	} else if !errors.Is(err, io.EOF) {
		return echo, fail("read from", err)
	}
	return echo, nil
}
