package reverse

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultRecvSize is how many bytes recv asks for when it is not told: the
// tutorial's recv(1024).
const DefaultRecvSize = 1024

// MaxLineLength is the longest command line the REPL reads, not counting
// its line break.
const MaxLineLength = 64 << 10

// ErrFailed is wrapped by the error Run returns when some commands failed,
// as in "2 of 5 commands failed".
var ErrFailed = errors.New("failed")

// Help is what the help command prints.
const Help = `commands:
  dial [ADDR]         connect to ADDR, a host:port (default ` + DefaultAddr + `, or -addr)
  send TEXT           send TEXT, as it is; "quoted" TEXT may use Go escapes such as \n
  recv [N] [TIMEOUT]  wait for data and print up to N bytes (default 1024);
                      TIMEOUT (2s, 500ms) bounds the wait
  shutdown            half-close: stop sending, keep receiving
  close               close the connection (or, with none, the listener)
  status              show the connection and what went through it
  listen [ADDR]       listen on ADDR, to play the server's side (same default)
  accept [TIMEOUT]    wait for a client to connect
  help                show this
  quit                close everything and leave (so does the end of input)
  TEXT                any other line: send it, then recv
lines that start with # are comments
`

// REPL drives one TCP connection by hand, one command per line: dial, send,
// recv, shutdown, close, and the rest listed in Help. It prints what each
// step did, including the ones a program usually hides: how many bytes a
// send took and a recv returned, and the end of the stream (EOF) when the
// peer has closed.
//
// Its fields are set before Run; the zero value, with Out set, is ready to
// use.
type REPL struct {
	// Out gets the result of each command, and the prompt.
	Out io.Writer

	// Err gets a line for each command that failed. Nil means Out.
	Err io.Writer

	// Prompt is printed before each command is read. Leave it empty when
	// the input is not a terminal: a script does not need it.
	Prompt string

	// Echo prints each command after the prompt, as a terminal shows what
	// is typed. With input from a file, the output then reads like a
	// session at a terminal. The prompt is then printed with the command,
	// once it has been read.
	Echo bool

	// Addr is the address that dial connects to and listen listens on
	// when the command gives none. Empty means DefaultAddr.
	Addr string

	// Timeout bounds each dial, accept, send and recv that gives no
	// timeout of its own. Zero means no limit, as in the tutorial: a recv
	// waits until data comes, and Interrupt is the way out.
	Timeout time.Duration

	mu     sync.Mutex
	cancel context.CancelFunc // what Interrupt calls: nil unless a command may still wait
	cmd    context.CancelFunc // ends the running command's context

	// The connection and the listener: only Run's goroutine uses these.
	conn     *net.TCPConn
	dialed   bool // conn came from dial, not accept: the peer is a server
	sent     int64
	received int64
	eof      bool // the peer has closed its sending side
	shut     bool // this side has been shut down for sending
	ln       *net.TCPListener
	commands int
	failed   int
}

// Run reads commands from in and carries them out, until quit or the end of
// in. It then closes the connection and the listener, if any. Run returns
// nil when every command succeeded, an error wrapping ErrFailed when some
// failed (each failure has been reported on Err already), ctx's error when
// ctx ends, or the error from reading in.
//
// Run reads in on a goroutine of its own, so that it can return as soon as
// ctx ends; that goroutine then ends when its Read on in returns.
func (r *REPL) Run(ctx context.Context, in io.Reader) error {
	defer r.closeAll()

	lines := make(chan string)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		// Room for the line and its line break, "\r\n" at most.
		sc.Buffer(nil, MaxLineLength+len("\r\n"))
		n := 0
		tooLong := func() error {
			return fmt.Errorf("line %d is longer than %d bytes: %w", n+1, MaxLineLength, bufio.ErrTooLong)
		}
		for sc.Scan() {
			line := strings.TrimSuffix(sc.Text(), "\r")
			if len(line) > MaxLineLength {
				readErr <- tooLong()
				return
			}
			select {
			case lines <- line:
				n++
			case <-stop:
				return
			}
		}
		err := sc.Err()
		if errors.Is(err, bufio.ErrTooLong) {
			err = tooLong()
		}
		readErr <- err
	}()

	for {
		if !r.Echo {
			fmt.Fprint(r.Out, r.Prompt)
		}
		var line string
		select {
		case <-ctx.Done():
			r.endPromptLine()
			return ctx.Err()
		case l, ok := <-lines:
			if !ok {
				r.endPromptLine()
				if err := <-readErr; err != nil {
					return fmt.Errorf("reading commands: %w", err)
				}
				return r.result()
			}
			line = l
		}
		if quit := r.do(ctx, line); quit {
			return r.result()
		}
	}
}

// endPromptLine ends the line that the prompt started, when input ends
// there, so that what comes next starts on a line of its own.
func (r *REPL) endPromptLine() {
	if r.Prompt != "" && !r.Echo {
		fmt.Fprintln(r.Out)
	}
}

func (r *REPL) result() error {
	if r.failed == 0 {
		return nil
	}
	noun := "commands"
	if r.commands == 1 {
		noun = "command"
	}
	// "1 of 1 command failed", "2 of 5 commands failed"
	return fmt.Errorf("%d of %d %s %w", r.failed, r.commands, noun, ErrFailed)
}

// Interrupt ends the command that is running, if one is: a dial, accept,
// send or recv that is waiting gives up and reports "interrupted", and Run
// goes on with the next command. It reports whether there was such a
// command; once a command has begun to print its outcome, there is not. If
// not, the caller may want to end Run instead. Interrupt is safe to call
// from any goroutine, as from a signal handler.
func (r *REPL) Interrupt() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel == nil {
		return false
	}
	r.cancel()
	return true
}

// do carries out one command line and reports whether it was quit.
func (r *REPL) do(ctx context.Context, line string) (quit bool) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r.mu.Lock()
	r.cmd = cancel
	r.mu.Unlock()
	r.interruptible(true)
	defer r.interruptible(false)

	// Echo only now, with the command ready to be interrupted: whoever
	// sees the echo may interrupt it.
	if r.Echo {
		fmt.Fprintf(r.Out, "%s%s\n", r.Prompt, line)
	}
	word, rest, _ := strings.Cut(strings.TrimSpace(line), " ")
	if word == "" || strings.HasPrefix(word, "#") {
		return false
	}
	r.commands++
	var err error
	switch word {
	case "quit":
		return true
	case "help":
		r.printf("%s", Help)
	case "status":
		r.status()
	case "dial":
		err = r.dial(ctx, rest)
	case "send":
		var text []byte
		if text, err = parseText(rest); err == nil {
			err = r.send(ctx, text)
		}
	case "recv":
		var size int
		var timeout time.Duration
		if size, timeout, err = parseRecv(rest); err == nil {
			err = r.recv(ctx, size, timeout)
		}
	case "shutdown":
		err = r.shutdown()
	case "close":
		err = r.close()
	case "listen":
		err = r.listen(rest)
	case "accept":
		var timeout time.Duration
		if timeout, err = parseTimeout(rest); err == nil {
			err = r.accept(ctx, timeout)
		}
	default:
		// Not a command: text to send, and then wait for the answer.
		var text []byte
		if text, err = parseText(strings.TrimSpace(line)); err == nil {
			if err = r.send(ctx, text); err == nil {
				err = r.recv(ctx, DefaultRecvSize, 0)
			}
		}
	}
	if err != nil {
		r.failed++
		r.report(err)
	}
	return false
}

// interruptible sets whether Interrupt may end the running command. A
// command is interruptible from its start, and again whenever it begins to
// wait (see bound), but not once it prints its outcome: an interrupt then
// would be lost on a command that is over, when it should end the session.
func (r *REPL) interruptible(on bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if on {
		r.cancel = r.cmd
	} else {
		r.cancel = nil
	}
}

// printf prints a command's outcome.
func (r *REPL) printf(format string, args ...any) {
	r.interruptible(false)
	fmt.Fprintf(r.Out, format, args...)
}

// report prints err, and a hint when err is one a learner meets here.
func (r *REPL) report(err error) {
	r.interruptible(false)
	w := r.Err
	if w == nil {
		w = r.Out
	}
	fmt.Fprintf(w, "error: %v\n", err)
	if hint := hintFor(err); hint != "" {
		fmt.Fprintf(w, "hint: %s\n", hint)
	}
}

func hintFor(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		addr := DefaultAddr
		var de *dialError
		if errors.As(err, &de) {
			addr = de.addr
		}
		return refusedHint(addr)
	case errors.Is(err, syscall.EADDRINUSE):
		return "another socket is listening there already: pick another port"
	case errors.Is(err, syscall.EPIPE):
		return "this side can no longer send: it was shut down, or the peer closed the connection and said so with a reset"
	case errors.Is(err, syscall.ECONNRESET):
		return "the peer's end of the connection is gone; it answered with a reset (RST)"
	}
	return ""
}

// refusedHint says how to start a server at addr, where a dial was
// refused: from the chapter's folder (where ./cmd/... is), with -addr only
// when addr is not the server's default, quoted for the shell when it needs
// to be. Port 0 is not an address a client can reach, so it says that
// instead.
func refusedHint(addr string) string {
	const hint = "nothing is listening there: is the server running? "
	if _, port, err := net.SplitHostPort(addr); err == nil {
		if n, err := strconv.Atoi(port); err == nil && n == 0 {
			return hint + "port 0 asks the system for any free port, which only a server can do: give the client the port the server printed"
		}
	}
	start := hint + "Start it in the chapter's folder with: go run ./cmd/reverse-server"
	if addr == DefaultAddr {
		return start
	}
	return start + " -addr " + shellQuote(addr)
}

// shellQuote returns s as a shell word: as it is when it holds only
// letters, digits and ".:-_", else in single quotes, so that the brackets
// of "[::1]:7342" are not a glob in zsh.
func shellQuote(s string) string {
	plain := s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || strings.ContainsRune(".:-_", r))
	})
	if plain {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// dialError is a failed dial, with the address as the command gave it
// (not as the resolver turned it), for the hint.
type dialError struct {
	addr string
	err  error
}

func (e *dialError) Error() string { return e.err.Error() }
func (e *dialError) Unwrap() error { return e.err }

// peer names the other end: "server" if this side dialed, else "client".
func (r *REPL) peer() string {
	if r.dialed {
		return "server"
	}
	return "client"
}

var errNotConnected = errors.New("not connected: dial first (or listen and accept)")

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

// addr returns the address a dial or listen command names, or the default.
func (r *REPL) addr(arg string) string {
	switch {
	case strings.TrimSpace(arg) != "":
		return strings.TrimSpace(arg)
	case r.Addr != "":
		return r.Addr
	}
	return DefaultAddr
}

// use makes c the connection that the commands drive.
func (r *REPL) use(c *net.TCPConn, dialed bool) {
	r.conn, r.dialed = c, dialed
	r.sent, r.received, r.eof, r.shut = 0, 0, false, false
}

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

// bound sets the deadline with set for an operation that is about to start:
// timeout from now, or the REPL's Timeout if timeout is zero, or none. It
// also arranges for the operation to end when ctx does (Interrupt), by
// moving the deadline to the past. Call the function it returns when the
// operation is over.
//
// The deadline is set before context.AfterFunc is registered, so that a
// ctx that is already done still wins: AfterFunc then runs after it.
func (r *REPL) bound(ctx context.Context, set func(time.Time) error, timeout time.Duration) (stop func() bool) {
	r.interruptible(true)
	if timeout == 0 {
		timeout = r.Timeout
	}
	var deadline time.Time // zero: no deadline
	if timeout > 0 {
		deadline = time.Now().Add(timeout)
	}
	set(deadline)
	return context.AfterFunc(ctx, func() { set(time.Unix(1, 0)) })
}

// waitError explains an error from an operation that bound bounded: an
// interrupt and a timeout become plain words.
func (r *REPL) waitError(ctx context.Context, err error, what string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = r.Timeout
	}
	switch {
	case ctx.Err() != nil:
		return errors.New("interrupted")
	case errors.Is(err, os.ErrDeadlineExceeded) && what == "received":
		return fmt.Errorf("nothing received within %v", timeout)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("%s did not finish within %v: the peer is not reading", what, timeout)
	}
	return err
}

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

func (r *REPL) status() {
	if r.ln != nil {
		r.printf("listening on %s\n", r.ln.Addr())
	}
	if r.conn == nil {
		r.printf("not connected\n")
		return
	}
	if r.dialed {
		r.printf("connected to %s from %s\n", r.conn.RemoteAddr(), r.conn.LocalAddr())
	} else {
		r.printf("connected to client %s on %s\n", r.conn.RemoteAddr(), r.conn.LocalAddr())
	}
	sent := "sent " + bytesCount64(r.sent)
	if r.shut {
		sent += ", then shut down sending"
	}
	received := "received " + bytesCount64(r.received)
	if r.eof {
		received += ", then EOF"
	}
	r.printf("%s; %s\n", sent, received)
}

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

// parseText returns the bytes that s stands for: s itself, or, when s
// starts with a double quote, the Go string literal s, so that "a\n" or
// "\xff" can send what is hard to type.
func parseText(s string) ([]byte, error) {
	if !strings.HasPrefix(s, `"`) {
		return []byte(s), nil
	}
	text, err := strconv.Unquote(s)
	if err != nil {
		return nil, fmt.Errorf("%s is not a Go string literal: %w", s, err)
	}
	return []byte(text), nil
}

// parseRecv parses recv's arguments, "[N] [TIMEOUT]", in either order.
func parseRecv(args string) (size int, timeout time.Duration, err error) {
	size = DefaultRecvSize
	for _, arg := range strings.Fields(args) {
		if n, err := strconv.Atoi(arg); err == nil {
			if n < 1 {
				return 0, 0, fmt.Errorf("recv %s: the size must be at least 1", arg)
			}
			size = n
			continue
		}
		d, err := time.ParseDuration(arg)
		if err != nil || d <= 0 {
			return 0, 0, fmt.Errorf("recv %s: want a size in bytes (1024) or a timeout (2s)", arg)
		}
		timeout = d
	}
	return size, timeout, nil
}

// parseTimeout parses an optional timeout, as accept takes.
func parseTimeout(arg string) (time.Duration, error) {
	arg = strings.TrimSpace(arg)
	if arg == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(arg)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("%q is not a timeout: write it as 2s or 500ms", arg)
	}
	return d, nil
}

func bytesCount(n int) string { return bytesCount64(int64(n)) }

func bytesCount64(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
