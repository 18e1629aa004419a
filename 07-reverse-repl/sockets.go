package reverse

// The REPL's socket calls, one method for each command that touches the
// network: the tutorial's client side (dial, send, recv, shutdown, close),
// then its server side (listen, accept). Each comes down to one call into
// package net, and its comment says what that call does on the wire; the
// rest is the REPL's bookkeeping and the line it prints. New in this
// chapter, as the REPL is.
//
// r.conn is the connection, a *net.TCPConn, and r.ln the listener. A call
// that may wait (dial, send, recv, accept) is bounded first: r.bound, in
// interrupt.go, sets its deadline and lets Ctrl-C end it. Reading and
// parsing the commands is repl.go's part.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

var errNotConnected = errors.New("not connected: dial first (or listen and accept)")

// dial is the tutorial's socket() and connect(). This side's kernel sends a
// SYN to addr, the server's kernel answers SYN-ACK, and this side's ACK
// completes the three-way handshake; DialContext returns then, whether or
// not the server program has called Accept yet. If nothing listens at
// addr, the server's kernel answers the SYN with a reset (RST): "connection
// refused".
func (r *REPL) dial(ctx context.Context, arg string) error {
	if r.conn != nil {
		return fmt.Errorf("already connected to %s: close first", r.conn.RemoteAddr())
	}
	addr := r.addr(arg)
	d := net.Dialer{Timeout: r.Timeout}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return errors.New("interrupted")
		}
		return &dialError{addr, err} // "dial tcp ADDR: connect: connection refused"
	}
	r.use(c.(*net.TCPConn), true)
	r.printf("connected to %s from %s\n", c.RemoteAddr(), c.LocalAddr())
	return nil
}

// send is the tutorial's send(), or rather sendall(). Write copies text
// into this side's kernel, the socket's send buffer, and returns once all of
// it is there; the kernel sends it on in segments, as fast as the peer
// takes them. So "sent 13 bytes" means the kernel has them, not that the
// peer has read them. Write waits only while the send buffer is full, as it
// gets when the peer is not reading.
func (r *REPL) send(ctx context.Context, text []byte) error {
	if r.conn == nil {
		return errNotConnected
	}
	if len(text) == 0 {
		return errors.New("send what? Usage: send TEXT")
	}
	stop := r.bound(ctx, r.conn.SetWriteDeadline, 0)
	n, err := r.conn.Write(text)
	stop()
	r.sent += int64(n)
	if err != nil {
		return r.waitError(ctx, err, "sending", 0)
	}
	r.printf("sent %s\n", bytesCount(n))
	return nil
}

// recv is the tutorial's recv(size). Read takes what has already arrived in
// the socket's receive buffer, up to size bytes, whether the peer sent it
// in one write or in several, and waits only while the buffer is empty.
// Once the peer's FIN has arrived and everything sent before it has been
// read, Read returns no bytes and io.EOF, the tutorial's empty read: the
// peer will send nothing more.
func (r *REPL) recv(ctx context.Context, size int, timeout time.Duration) error {
	if r.conn == nil {
		return errNotConnected
	}
	buf := make([]byte, size)
	stop := r.bound(ctx, r.conn.SetReadDeadline, timeout)
	n, err := r.conn.Read(buf)
	stop()
	r.received += int64(n)
	if n > 0 {
		r.printf("received %s: %q\n", bytesCount(n), buf[:n])
		return nil
	}
	if errors.Is(err, io.EOF) {
		r.eof = true
		r.printf("EOF: the %s closed the connection\n", r.peer())
		return nil
	}
	return r.waitError(ctx, err, "received", timeout)
}

// shutdown is the tutorial's shutdown(SHUT_WR), a half-close. CloseWrite
// sends a FIN after whatever is still in the send buffer: the peer reads
// that, then EOF. This side can still receive; a send from now on fails
// with EPIPE, "broken pipe".
func (r *REPL) shutdown() error {
	if r.conn == nil {
		return errNotConnected
	}
	if err := r.conn.CloseWrite(); err != nil {
		return err
	}
	r.shut = true
	r.printf("shut down sending: the %s reads EOF; recv still works\n", r.peer())
	return nil
}

// close is the tutorial's close(). Closing the connection sends a FIN, as
// shutdown does, and gives up receiving as well: the kernel answers
// anything the peer still sends with a reset (RST). If bytes that were
// never received are waiting, the kernel throws them away and sends RST at
// once, instead of the FIN. Closing the listener (when there is no
// connection) frees its port: a dial there is refused.
func (r *REPL) close() error {
	switch {
	case r.conn != nil:
		err := r.conn.Close()
		r.conn = nil
		if err != nil {
			return err
		}
		r.printf("closed the connection\n")
	case r.ln != nil:
		err := r.ln.Close()
		addr := r.ln.Addr()
		r.ln = nil
		if err != nil {
			return err
		}
		r.printf("stopped listening on %s\n", addr)
	default:
		return errors.New("nothing to close")
	}
	return nil
}

// listen is the tutorial's socket(), bind() and listen(). From then on the
// kernel answers each client's SYN at that address by itself: it completes
// the handshake and queues the connection in the listener's backlog, where
// accept finds it. Port 0 asks the kernel for any free port; the address
// printed names the one it chose.
func (r *REPL) listen(arg string) error {
	if r.ln != nil {
		return fmt.Errorf("already listening on %s: close first", r.ln.Addr())
	}
	ln, err := net.Listen("tcp", r.addr(arg))
	if err != nil {
		return err // "listen tcp ADDR: bind: address already in use"
	}
	r.ln = ln.(*net.TCPListener)
	r.printf("listening on %s\n", ln.Addr())
	return nil
}

// accept is the tutorial's accept(). Nothing goes on the wire: the kernel
// has completed the handshake already. AcceptTCP takes the next connection
// from the backlog, waiting until a client connects if there is none, and
// returns a socket of its own for it; the listener goes on listening.
func (r *REPL) accept(ctx context.Context, timeout time.Duration) error {
	switch {
	case r.ln == nil:
		return errors.New("not listening: listen first")
	case r.conn != nil:
		return fmt.Errorf("already connected to %s: close first", r.conn.RemoteAddr())
	}
	stop := r.bound(ctx, r.ln.SetDeadline, timeout)
	c, err := r.ln.AcceptTCP()
	stop()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
			if timeout == 0 {
				timeout = r.Timeout
			}
			return fmt.Errorf("no client within %v", timeout)
		}
		return r.waitError(ctx, err, "accepting", timeout)
	}
	r.use(c, false)
	r.printf("accepted a connection from %s\n", c.RemoteAddr())
	return nil
}

// closeAll is what quit and the end of the commands do: close the
// connection and the listener, if any, as close would.
func (r *REPL) closeAll() {
	if r.conn != nil {
		r.conn.Close()
		r.conn = nil
	}
	if r.ln != nil {
		r.ln.Close()
		r.ln = nil
	}
}
