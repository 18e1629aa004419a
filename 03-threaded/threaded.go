// Package threaded is chapter 03 of the course: a server that gives every
// client its own goroutine, so that any number of clients can talk to it at
// once, and a client that sends lines and prints the replies.
//
// It ports the tutorial's threaded server: a client is greeted with
// "Welcome to the server. Type something and hit enter" and every line it
// sends is answered with "OK..." and the line.
//
// What changed since 02-echo: `go` in front of the per-client function, a
// WaitGroup so that shutting down waits for every goroutine, and lines
// instead of raw bytes, which needs framing: a TCP read is not a line.
package threaded

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"
)

// DefaultAddr is the tutorial's port 8888, on the loopback interface.
const DefaultAddr = "127.0.0.1:8888"

// Welcome is the first line every client gets.
const Welcome = "Welcome to the server. Type something and hit enter\n"

// Goodbye is the last line a client gets when the server shuts down
// gracefully while it is connected.
const Goodbye = "Server shutting down. Goodbye.\n"

// ReplyPrefix starts the answer to every line: "OK..." and then the line.
const ReplyPrefix = "OK..."

// DefaultMaxLineLength is the longest line a client may send, counting its
// newline.
const DefaultMaxLineLength = 4096

// DefaultTimeout is how long the server waits for a client to send its next
// line, or to take a reply, before it hangs up.
const DefaultTimeout = 5 * time.Minute

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("threaded: server closed")

// Why a client was disconnected, other than an error from the network.
var (
	errLineTooLong  = errors.New("line too long")
	errShuttingDown = errors.New("server shutting down")
)

// Server greets every client and answers each line it sends, each client
// on its own goroutine. The zero value is ready to use.
type Server struct {
	// Log gets a line for each client that comes and goes. Nil means no
	// logging.
	Log *log.Logger

	// MaxLineLength is the longest line, counting its "\n", that a client
	// may send. A longer one gets an error line, and the client is
	// disconnected. Zero means DefaultMaxLineLength.
	MaxLineLength int

	// Timeout bounds the wait for each line from a client and each reply
	// to it. Zero means DefaultTimeout.
	Timeout time.Duration

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closing   bool           // no new clients: Close or Shutdown was called
	wg        sync.WaitGroup // one for each client goroutine
}

// Serve accepts connections on ln and serves each one on a goroutine of its
// own. When Accept fails for want of descriptors or memory, Serve logs the
// error and tries again 50ms later. It returns ErrServerClosed after Close
// or Shutdown, or any other error from Accept. Serve closes ln before it
// returns; client goroutines may still be running then, and Close or
// Shutdown waits for them.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	defer ln.Close()

	s.logf("listening on %s", ln.Addr())
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			if !outOfResources(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of descriptors or memory: not a reason to stop
			// serving the clients already connected, and each one
			// that leaves gives a descriptor back. Say so, wait, and
			// try again.
			s.logf("accept: %v", err)
			time.Sleep(acceptRetry)
			continue
		}
		if !s.trackConn(conn) { // shutting down: too late for this one
			conn.Close()
			continue
		}
		// The one change from chapter 02: handleConn runs on its own
		// goroutine, and the loop goes straight back to Accept.
		go s.handleConn(conn)
	}
}

// acceptRetry is how long Serve waits before it calls Accept again after
// outOfResources.
const acceptRetry = 50 * time.Millisecond

// outOfResources reports whether Accept failed for want of something that
// comes back as connections close: descriptors (EMFILE for the process,
// ENFILE for the system) or kernel memory.
func outOfResources(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// handleConn talks to one client until it leaves, then closes conn. It runs
// on a goroutine of its own; trackConn has counted it in s.wg.
func (s *Server) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.untrackConn(conn)

	peer := conn.RemoteAddr()
	s.logf("connected with %s", peer)
	lines, err := s.talk(conn)
	if err == nil {
		s.logf("%s disconnected after %s", peer, count(lines))
		conn.Close()
		return
	}
	s.logf("%s: %v; disconnected after %s", peer, err, count(lines))
	switch {
	case errors.Is(err, errLineTooLong) || errors.Is(err, errShuttingDown):
		// The client may have sent more than we read; see lingerClose.
		lingerClose(conn)
		conn.Close()
	default:
		// A timeout, or a broken connection: the client may have
		// stopped reading, and our replies may still be waiting for
		// it in the kernel. See reset.
		reset(conn)
	}
}

// talk greets conn's client, then answers its lines until it closes its
// side, which is a nil error. It returns how many lines it answered.
func (s *Server) talk(conn net.Conn) (int, error) {
	if err := s.send(conn, Welcome); err != nil {
		return 0, err
	}
	limit := s.maxLineLength()
	// A Read returns whatever has arrived: half a line, or three lines
	// and a bit. The Scanner keeps the bytes until a whole line is there,
	// and refuses to hold more than limit of them.
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, limit)
	n := 0
	for s.waitForLine(conn) && sc.Scan() {
		if sc.Err() != nil {
			// An error (a timeout, Shutdown) ended the line, not a
			// newline or the client's EOF: it is not a whole line.
			break
		}
		// sc.Text has no "\n"; it also drops a "\r" before it (telnet).
		if err := s.send(conn, ReplyPrefix+sc.Text()+"\n"); err != nil {
			return n, err
		}
		n++
	}
	err := sc.Err()
	switch {
	case s.isClosing():
		s.send(conn, Goodbye) // best effort: the client may be gone
		return n, errShuttingDown
	case errors.Is(err, bufio.ErrTooLong):
		s.send(conn, fmt.Sprintf("error: line longer than %d bytes\n", limit))
		return n, fmt.Errorf("%w: more than %d bytes", errLineTooLong, limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return n, fmt.Errorf("no line for %v", s.timeout())
	}
	return n, err // nil at EOF: the client is done
}

// waitForLine sets the deadline for the client's next line, unless the
// server is shutting down. Shutdown sets a deadline in the past on every
// connection, holding s.mu; setting ours under the same lock means that
// we never overwrite it with one in the future.
func (s *Server) waitForLine(conn net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	conn.SetReadDeadline(time.Now().Add(s.timeout()))
	return true
}

// send writes msg to conn, giving up after the timeout.
func (s *Server) send(conn net.Conn, msg string) error {
	conn.SetWriteDeadline(time.Now().Add(s.timeout()))
	_, err := io.WriteString(conn, msg)
	return err // a *net.OpError: "write tcp4 ADDR->ADDR: broken pipe"
}

// lingerClose ends a connection whose client may still be sending, without
// losing what was last written to it. Closing a socket that has unread
// input makes the kernel send a reset (RST) instead of a normal FIN, and a
// reset can destroy data the client has not read yet: the error line, or
// Goodbye. So send FIN first, then read and discard what the client still
// sends until it hangs up too, for at most a second or a megabyte.
func lingerClose(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	conn.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
}

// reset ends a connection with a reset (RST) instead of the normal FIN. A
// client that has stopped reading leaves our last replies in the kernel's
// send buffer, up to a few megabytes of them. A normal Close queues the FIN
// behind those bytes, which the client never takes: the kernel keeps the
// socket and its buffer for minutes while the client stays connected, and the
// client, which is not reading, never learns that it was dropped. With
// SO_LINGER set to zero, Close throws the unsent bytes away and sends RST:
// the socket is freed at once, and the client's next read fails with
// "connection reset by peer".
func reset(conn net.Conn) {
	if tc, ok := conn.(interface{ SetLinger(sec int) error }); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}

// Close stops the server at once: it closes the listeners and every
// connection, then waits until every client goroutine has ended. Close may
// be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

// Shutdown stops the server gracefully. It closes the listeners, then asks
// every client goroutine to finish: one that is waiting for a line sends
// Goodbye and hangs up; one that is writing a reply finishes it first.
// Shutdown returns nil once every client goroutine has ended. If ctx ends
// first, it closes what is left as Close does, and returns ctx's error.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	err := s.closeListenersLocked()
	for c := range s.conns {
		// Wakes a Read that is waiting for the client; see waitForLine.
		c.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return err
	case <-ctx.Done():
		s.Close() // ends the stragglers, and waits for them
		<-done
		return ctx.Err()
	}
}

func (s *Server) closeListenersLocked() error {
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	return err
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

// trackConn records c and counts its goroutine in s.wg, unless the server
// is closing. Both happen under s.mu, and Close sets s.closing under s.mu
// before it calls s.wg.Wait: so no wg.Add can race with that Wait.
func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing {
		return false
	}
	if s.conns == nil {
		s.conns = make(map[net.Conn]struct{})
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return true
}

func (s *Server) untrackConn(c net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) maxLineLength() int { return orDefault(s.MaxLineLength, DefaultMaxLineLength) }

func (s *Server) timeout() time.Duration { return orDefault(s.Timeout, DefaultTimeout) }

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// count says "1 line" or "n lines".
func count(n int) string {
	if n == 1 {
		return "1 line"
	}
	return fmt.Sprintf("%d lines", n)
}

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

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

// DefaultReplyTimeout is how long a Client waits for a reply that is due.
const DefaultReplyTimeout = 10 * time.Second

// maxReplyLength bounds one line in either direction, so that a broken
// server cannot make the client use unbounded memory.
const maxReplyLength = 1 << 20

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

// replies is the queue of replies that are due, shared by the goroutine
// that sends and the one that receives. It also keeps a read deadline on
// conn while any reply is due: Timeout after the latest line sent or reply
// received, and none when nothing is due.
type replies struct {
	conn    net.Conn
	timeout time.Duration

	mu       sync.Mutex
	want     []string // the replies due, oldest first
	answered int      // replies received, the welcome included
	closed   bool     // conn is half-closed: everything is sent
	canceled bool     // the context ended: keep the deadline in the past
}

// newReplies starts with one reply due: the server's welcome.
func newReplies(conn net.Conn, timeout time.Duration) *replies {
	r := &replies{conn: conn, timeout: timeout, want: []string{strings.TrimSuffix(Welcome, "\n")}}
	r.setDeadlineLocked()
	return r
}

// expect is called before a line is sent, with the reply it should get.
func (r *replies) expect(reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = append(r.want, reply)
	r.setDeadlineLocked()
}

// arrived is called for each line received. It returns an error if the
// line is not the reply due.
func (r *replies) arrived(line string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.want) == 0 {
		return fmt.Errorf("unexpected line %s", quoted(line))
	}
	if line != r.want[0] {
		if r.answered == 0 { // the welcome answers no line of ours
			return fmt.Errorf("unexpected greeting %s", quoted(line))
		}
		return fmt.Errorf("unexpected reply %s to line %d", quoted(line), r.answered)
	}
	r.want = r.want[1:]
	r.answered++
	r.setDeadlineLocked()
	return nil
}

// shownBytes is how much of a line from the network an error message
// shows: enough to recognise it, and no more, whatever the peer sends.
const shownBytes = 64

// quoted returns s as a Go string literal, for an error message: escaped,
// so that no byte of s can end the message's line or start another (a line
// break shows as \n, DEL as \x7f), and cut to its first shownBytes bytes,
// with its size, if it is longer: "OK...xxx"... (1048576 bytes).
func quoted(s string) string {
	if len(s) <= shownBytes {
		return strconv.Quote(s)
	}
	cut := shownBytes
	for cut > shownBytes-utf8.UTFMax+1 && !utf8.RuneStart(s[cut]) {
		cut-- // keep a character whole
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
}

func (r *replies) setDeadlineLocked() {
	switch {
	case r.canceled:
	case len(r.want) > 0:
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	default:
		r.conn.SetReadDeadline(time.Time{}) // no reply due: wait for the user
	}
}

// cancel wakes every blocked Read and Write with a deadline in the past.
func (r *replies) cancel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.canceled = true
	r.conn.SetDeadline(time.Unix(1, 0))
}

func (r *replies) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.want)
}

func (r *replies) markHalfClosed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

func (r *replies) halfClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}
