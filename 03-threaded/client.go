package threaded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"time"
)

// Client sends lines to the server and checks its replies. The zero value
// is ready to use.
type Client struct {
	// Timeout bounds the wait for each reply: once a line is sent, the
	// server must answer it within Timeout (and greet a new client
	// within Timeout). While no reply is due, the client waits for as
	// long as it takes, as a person at a terminal does. Zero means
	// DefaultReplyTimeout.
	Timeout time.Duration
}

// Talk connects to the server at addr, sends it every line it reads from
// in, and copies every line the server sends to out as soon as it arrives.
// When in ends, Talk half-closes the connection; the server answers the
// lines still on their way, then hangs up. Talk returns nil if the server
// sent its welcome, answered every line with "OK..." and the line, and
// then closed. Otherwise it returns an error that says what went wrong,
// after copying the line that was wrong to out.
//
// Talk reads in on a goroutine of its own. If the server hangs up or ctx
// ends while that goroutine is blocked reading in, Talk returns at once and
// the goroutine ends when its Read does.
func (c *Client) Talk(ctx context.Context, addr string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()
	peer := conn.RemoteAddr()

	timeout := orDefault(c.Timeout, DefaultReplyTimeout)
	due := newReplies(conn, timeout)
	stop := context.AfterFunc(ctx, due.cancel)
	defer stop()

	sent := make(chan error, 1)
	go func() { sent <- sendLines(conn.(*net.TCPConn), in, due) }()

	err = receiveLines(conn, out, due)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("read from %s: %w", peer, context.Cause(ctx))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("read from %s: no reply within %v: %w", peer, timeout, os.ErrDeadlineExceeded)
	case err != nil:
		return fmt.Errorf("%s: %w", peer, err)
	case due.pending() > 0:
		return fmt.Errorf("%s closed the connection with %d replies due", peer, due.pending())
	case !due.halfClosed():
		// We were still sending. sendLines may be blocked reading in;
		// its next Write fails, as the connection is closed.
		return fmt.Errorf("%s closed the connection", peer)
	}
	if err := <-sent; err != nil {
		return fmt.Errorf("write to %s: %w", peer, err)
	}
	return nil
}

// sendLines writes every line of in to conn, then half-closes conn.
func sendLines(conn *net.TCPConn, in io.Reader, due *replies) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxReplyLength)
	for sc.Scan() {
		due.expect(ReplyPrefix + sc.Text())
		if _, err := io.WriteString(conn, sc.Text()+"\n"); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		conn.Close() // we cannot say all we had to say: do not pretend
		return fmt.Errorf("reading input: %w", err)
	}
	due.markHalfClosed()
	// Half-close: "no more lines", yet still able to read the replies.
	return conn.CloseWrite()
}

// receiveLines copies the lines conn receives to out until EOF, checking
// each against the reply that is due.
func receiveLines(conn net.Conn, out io.Writer, due *replies) error {
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, maxReplyLength)
	for sc.Scan() {
		if _, err := fmt.Fprintln(out, sc.Text()); err != nil {
			return err
		}
		if err := due.arrived(sc.Text()); err != nil {
			return err
		}
	}
	return sc.Err() // nil at EOF
}
