package reverse

// The REPL: the commands it knows, the loop that reads them one line at a
// time, and what it prints. The socket calls that the commands make are in
// sockets.go. New in this chapter.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
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

// status prints what the REPL knows of its connection and listener.
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

// peer names the other end: "server" if this side dialed, else "client".
func (r *REPL) peer() string {
	if r.dialed {
		return "server"
	}
	return "client"
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
