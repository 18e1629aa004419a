package multiconn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"example.com/sockets/05-multiconn/internal/wire"
)

// DefaultMessages are the tutorial's two messages.
var DefaultMessages = []string{"Message 1 from client.", "Message 2 from client."}

// DefaultClientTimeout bounds each connection's whole exchange when
// Client.Timeout is zero.
const DefaultClientTimeout = 10 * time.Second

// maxClientRead is the biggest buffer a connection reads its echo into.
// The echo is checked as it arrives, never kept whole, so ten thousand
// connections with big messages cost at most 10,000 × 16 KB of buffers.
const maxClientRead = 16 << 10

// Client opens many connections at once, sends the same messages on each,
// and checks every echo: the tutorial's multiconn-client.py. The zero value
// is ready to use.
type Client struct {
	// Log gets the lines the tutorial prints for each connection:
	// starting, sending, received (one line per Read) and closing, or
	// the reason a connection failed. Lines from different connections
	// interleave. Nil means no logging.
	Log *log.Logger

	// Timeout bounds each connection's whole exchange, dial included:
	// the complete echo must be in within Timeout of starting. Zero
	// means DefaultClientTimeout.
	Timeout time.Duration
}

// Result sums up a Run.
type Result struct {
	Conns         int     // connections attempted
	Succeeded     int     // connections whose echo was complete and exact
	BytesSent     int64   // bytes written, on all connections
	BytesReceived int64   // bytes read back, on all connections
	Failures      []error // one per failed connection, each saying "connection N: ..."; sorted by N
}

// String sums up r's connections and bytes, as multiconn-client does when
// every echo came back: "2 connections, 88 bytes sent, 88 received".
func (r Result) String() string {
	return fmt.Sprintf("%s, %s sent, %d received", plural(r.Conns, "connection"), plural(r.BytesSent, "byte"), r.BytesReceived)
}

// Run opens conns connections to the server at addr, all at once, each on
// a goroutine of its own. On each it sends messages, in order, one Write
// per message, while it reads the echo and checks it, byte for byte,
// against what it sent. A connection is closed as soon as its whole echo
// has arrived: like the tutorial, the client counts the bytes it gets back
// and stops at the number it sent, without waiting for the server to hang
// up.
//
// Connections are numbered from 1, as in the tutorial. Run returns once
// every connection is done, with nil if every echo was complete and exact,
// or an error saying how many connections failed; Result.Failures says
// why each one did. If ctx ends first, Run stops every connection at once
// and returns ctx's error.
func (c *Client) Run(ctx context.Context, addr string, conns int, messages []string) (Result, error) {
	if conns < 1 {
		return Result{}, fmt.Errorf("multiconn: %d connections: need at least 1", conns)
	}
	// The bytes every connection sends, as one slice, and where each
	// message ends in it. Every connection reads them; none changes them.
	want := []byte(strings.Join(messages, ""))
	if len(want) == 0 {
		return Result{}, errors.New("multiconn: no bytes to send: the messages are empty")
	}
	ends := make([]int, len(messages))
	end := 0
	for i, m := range messages {
		end += len(m)
		ends[i] = end
	}

	// One goroutine per connection, each writing only its own element of
	// results: no lock needed, and wg.Wait makes the results visible here.
	results := make([]exchangeResult, conns)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Go(func() { results[i] = c.exchange(ctx, addr, i+1, want, ends) })
	}
	wg.Wait()

	res := Result{Conns: conns}
	for i, r := range results {
		res.BytesSent += r.sent
		res.BytesReceived += r.received
		if r.err != nil {
			res.Failures = append(res.Failures, fmt.Errorf("connection %d: %w", i+1, r.err))
			continue
		}
		res.Succeeded++
	}
	switch {
	case len(res.Failures) == 0:
		return res, nil
	case ctx.Err() != nil:
		return res, ctx.Err()
	}
	return res, fmt.Errorf("%d of %s failed", len(res.Failures), plural(conns, "connection"))
}

// exchangeResult is what one connection did.
type exchangeResult struct {
	sent, received int64
	err            error // nil: the echo was complete and exact
}

// exchange is one connection's whole life: dial, send the messages while
// checking the echo, close. n is the connection's number; want is what it
// sends, and ends says where each message ends in want.
func (c *Client) exchange(ctx context.Context, addr string, n int, want []byte, ends []int) exchangeResult {
	timeout := orDefault(c.Timeout, DefaultClientTimeout)
	connCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	c.logf("starting connection %d to %s", n, addr)
	var d net.Dialer
	conn, err := d.DialContext(connCtx, "tcp", addr)
	if err != nil {
		// *net.OpError: "dial tcp ADDR: connect: connection refused".
		return c.failed(ctx, n, exchangeResult{err: err})
	}
	defer conn.Close()

	// The exchange must be over by connCtx's deadline: one deadline for
	// every Read and Write. And if ctx ends first, a deadline in the past
	// wakes whichever of them is blocked, at once.
	deadline, _ := connCtx.Deadline()
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	// Write and read at once. A client that wrote everything before
	// reading would deadlock on a big message: the server blocks writing
	// the echo nobody reads, so it stops reading, so our Write blocks.
	sent := make(chan int64, 1)
	go func() { sent <- c.send(conn, n, want, ends) }()

	received, err := c.receive(conn, n, want)
	if err == nil {
		c.logf("closing connection %d", n)
	}
	// Done, one way or the other. Closing also wakes the sender if it is
	// still blocked in Write because the echo went wrong.
	conn.Close()
	r := exchangeResult{sent: <-sent, received: received, err: err}
	if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
		r.err = fmt.Errorf("no complete echo within %v", timeout)
	}
	return c.failed(ctx, n, r)
}

// failed logs r's error, if there is one, after putting ctx's error in its
// place if ctx has ended: then that is the reason, whatever the symptom.
func (c *Client) failed(ctx context.Context, n int, r exchangeResult) exchangeResult {
	if r.err == nil {
		return r
	}
	if ctx.Err() != nil {
		r.err = ctx.Err()
	}
	c.logf("connection %d: %v", n, r.err)
	return r
}

// send writes want to conn, one Write per message, and returns how many
// bytes it wrote. If a Write fails, the connection is broken, and receive
// finds out and says why: send just stops.
func (c *Client) send(conn net.Conn, n int, want []byte, ends []int) int64 {
	var sent int64
	start := 0
	for _, end := range ends {
		msg := want[start:end]
		start = end
		if len(msg) == 0 {
			continue // a Write of nothing sends nothing
		}
		c.logf("sending %s to connection %d", preview(msg), n)
		k, err := conn.Write(msg)
		sent += int64(k)
		if err != nil {
			break
		}
	}
	return sent
}

// receive reads from conn until len(want) bytes have arrived, checking
// each piece against want as it comes, and returns how many bytes it read.
// It reads no more than it expects: once the echo is complete, the
// exchange is over.
func (c *Client) receive(conn net.Conn, n int, want []byte) (int64, error) {
	buf := make([]byte, min(len(want), maxClientRead))
	got := 0
	for got < len(want) {
		k, err := conn.Read(buf[:min(len(buf), len(want)-got)])
		if k > 0 {
			// One line per Read: a message may well come back in
			// several pieces, or two messages in one.
			c.logf("received %s from connection %d", preview(buf[:k]), n)
			if i := wire.FirstDiff(buf[:k], want[got:got+k]); i >= 0 {
				// Everything before buf matched want, so the server's
				// words so far are want[:got] and then buf[:k].
				head := append(want[:got:got], buf[:k]...)
				busy, more := serverBusy(conn, head)
				if busy {
					return int64(got + k + more), errors.New(strings.TrimSpace(BusyMessage))
				}
				return int64(got + k + more), fmt.Errorf("echo differs from what was sent at byte %d", got+i)
			}
			got += k
		}
		if errors.Is(err, io.EOF) {
			return int64(got), fmt.Errorf("server closed the connection after echoing %d of %d bytes", got, len(want))
		}
		if err != nil {
			return int64(got), err
		}
	}
	return int64(got), nil
}

// serverBusy reports whether the server's first words, of which head holds
// what has arrived so far, are BusyMessage, and how many more bytes it read
// to find out. It reads the rest of BusyMessage from conn if head is the
// start of it: a busy server sends it all at once and hangs up, and the
// connection's deadline bounds the wait anyway.
func serverBusy(conn net.Conn, head []byte) (busy bool, more int) {
	if len(head) > len(BusyMessage) {
		head = head[:len(BusyMessage)]
	}
	if string(head) != BusyMessage[:len(head)] {
		return false, 0
	}
	rest := make([]byte, len(BusyMessage)-len(head))
	more, err := io.ReadFull(conn, rest)
	return err == nil && string(rest) == BusyMessage[len(head):], more
}

func (c *Client) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log.Printf(format, args...)
	}
}
