package chat

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"example.com/sockets/04-select/internal/protocol"
)

// DefaultClientTimeout is how long a Client waits for the room to finish
// once its own input has ended.
const DefaultClientTimeout = 10 * time.Second

// maxLine bounds one line in either direction on the client, so that a
// broken server cannot make it use unbounded memory.
const maxLine = 1 << 20

// Client joins a chat room. The zero value is ready to use.
type Client struct {
	// Timeout bounds the wait for the server once the input has ended:
	// the server must send the rest of what it has and hang up, and may
	// not stay silent for longer than this. While the input is open, the
	// client waits for the room as long as it takes. Zero means
	// DefaultClientTimeout.
	Timeout time.Duration
}

// Chat joins the room at addr. It sends every line it reads from in, and
// at the same time copies every line the room sends to out. When in ends,
// Chat half-closes the connection, which tells the server it is leaving;
// the server sends what is still queued for it and hangs up, and Chat
// returns nil. If the server hangs up first, Chat returns an error.
//
// Chat reads in on a goroutine of its own. If the server hangs up or ctx
// ends while that goroutine is blocked reading in, Chat returns at once and
// the goroutine ends when its Read does.
func (c *Client) Chat(ctx context.Context, addr string, in io.Reader, out io.Writer) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err // *net.OpError: "dial tcp ADDR: connect: connection refused"
	}
	defer conn.Close()
	peer := conn.RemoteAddr()

	st := &chatState{conn: conn, timeout: protocol.OrDefault(c.Timeout, DefaultClientTimeout)}
	stop := context.AfterFunc(ctx, st.cancel)
	defer stop()

	sent := make(chan error, 1)
	go func() { sent <- sendLines(conn.(*net.TCPConn), in, st) }()

	err = receiveLines(conn, out, st)
	switch {
	case ctx.Err() != nil:
		return fmt.Errorf("read from %s: %w", peer, context.Cause(ctx))
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("read from %s: still open %v after we left: %w", peer, st.timeout, os.ErrDeadlineExceeded)
	case err != nil:
		return fmt.Errorf("%s: %w", peer, err)
	case !st.left():
		return fmt.Errorf("%s closed the connection", peer)
	}
	if err := <-sent; err != nil {
		return fmt.Errorf("write to %s: %w", peer, err)
	}
	return nil
}

// sendLines writes every line of in to conn, then half-closes conn.
func sendLines(conn *net.TCPConn, in io.Reader, st *chatState) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		if _, err := fmt.Fprintf(conn, "%s\n", sc.Bytes()); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		conn.Close() // we cannot say all we had to say: do not pretend
		return fmt.Errorf("reading input: %w", err)
	}
	st.leave()
	// Half-close: "I am leaving", yet still able to read.
	return conn.CloseWrite()
}

// receiveLines copies the lines conn receives to out until EOF.
func receiveLines(conn net.Conn, out io.Writer, st *chatState) error {
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, maxLine)
	for sc.Scan() {
		if _, err := fmt.Fprintf(out, "%s\n", sc.Bytes()); err != nil {
			return err
		}
		st.received()
	}
	return sc.Err() // nil at EOF
}

// chatState is shared by the goroutine that sends and the one that
// receives. Once the client has left, it keeps a read deadline on conn,
// Timeout after the latest line received.
type chatState struct {
	conn    net.Conn
	timeout time.Duration

	mu       sync.Mutex
	gone     bool // half-closed: we have left the room
	canceled bool // the context ended: keep the deadline in the past
}

func (st *chatState) leave() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.gone = true
	st.setDeadlineLocked()
}

func (st *chatState) received() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.setDeadlineLocked()
}

func (st *chatState) setDeadlineLocked() {
	if st.gone && !st.canceled {
		st.conn.SetReadDeadline(time.Now().Add(st.timeout))
	}
}

// cancel wakes every blocked Read and Write with a deadline in the past.
func (st *chatState) cancel() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.canceled = true
	st.conn.SetDeadline(time.Unix(1, 0))
}

func (st *chatState) left() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.gone
}
