package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"syscall"
	"time"

	"example.com/sockets/06-app-protocol/message"
)

// Client connects to a server of the tutorial's protocol. The zero value
// is ready to use.
type Client struct {
	// Log gets the tutorial's lines: starting, sending, received,
	// closing. Nil means no logging.
	Log *log.Logger

	// Timeout bounds the dial, and each request with its response. Zero
	// means DefaultClientTimeout.
	Timeout time.Duration
}

// Conn is a connection to a server, on which requests are sent one at a
// time. It is not safe for concurrent use.
type Conn struct {
	nc      net.Conn
	dec     *message.Decoder
	addr    string
	log     *log.Logger
	timeout time.Duration
	answers int // responses received so far
}

// Dial connects to the server at addr.
func (c *Client) Dial(ctx context.Context, addr string) (*Conn, error) {
	timeout := orDefault(c.Timeout, DefaultClientTimeout)
	if c.Log != nil {
		c.Log.Printf("starting connection to %s", addr)
	}
	d := net.Dialer{Timeout: timeout}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &Conn{
		nc:      nc,
		dec:     message.NewDecoder(nc),
		addr:    addr,
		log:     c.Log,
		timeout: timeout,
	}, nil
}

// Do sends req and waits for the response. The exchange must be over
// within the Client's Timeout, and ends early if ctx does. If the server
// closes the connection instead of answering, Do says so: the
// tutorial's server, for one, answers a single request per connection.
func (c *Conn) Do(ctx context.Context, req message.Message) (message.Message, error) {
	b, err := message.Append(nil, req)
	if err != nil {
		return message.Message{}, err
	}
	release := c.bound(ctx)
	defer release()

	if c.log != nil {
		c.log.Printf("sending %s to %s", Repr(b, shown), c.addr)
	}
	if _, err := c.nc.Write(b); err != nil {
		return message.Message{}, c.failed(ctx, err)
	}
	resp, err := c.dec.Decode()
	if err != nil {
		return message.Message{}, c.failed(ctx, err)
	}
	c.answers++
	switch {
	case c.log == nil:
	case resp.ContentType == message.TypeJSON:
		c.log.Printf("received response %s from %s", Show(string(resp.Content)), c.addr)
	default:
		c.log.Printf("received %s response from %s", Show(resp.ContentType), c.addr)
	}
	return resp, nil
}

// Close closes the connection.
func (c *Conn) Close() error {
	c.logf("closing connection to %s", c.addr)
	return c.nc.Close()
}

// bound sets the connection's deadline for one exchange, and pulls it in
// to now if ctx ends first. The returned func undoes the latter; if ctx
// has ended already, it waits until the deadline is pulled in, so that
// this cannot happen after the next exchange has set its own.
func (c *Conn) bound(ctx context.Context) (release func()) {
	c.nc.SetDeadline(time.Now().Add(c.timeout))
	pulled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		c.nc.SetDeadline(time.Now())
		close(pulled)
	})
	return func() {
		if !stop() {
			<-pulled
		}
	}
}

// failed explains why an exchange failed.
func (c *Conn) failed(ctx context.Context, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("no response from %s within %v", c.addr, c.timeout)
	case c.answers > 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)):
		return fmt.Errorf("%s closed the connection after %s, without answering this request: does it answer only one request per connection?", c.addr, plural(c.answers, "response"))
	case errors.Is(err, io.EOF):
		return fmt.Errorf("%s closed the connection without answering", c.addr)
	}
	return err
}

func (c *Conn) logf(format string, args ...any) {
	if c.log != nil {
		c.log.Printf(format, args...)
	}
}

// plural says "1 response" or "n responses", "1 connection" or "n
// connections".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
