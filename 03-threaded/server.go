package threaded

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"
)

// DefaultAddr is the tutorial's port 8888, on the loopback interface.
const DefaultAddr = "127.0.0.1:8888"

// Welcome is the first line every client gets.
const Welcome = "Welcome to the server. Type something and hit enter\n"

// ReplyPrefix starts the answer to every line: "OK..." and then the line.
const ReplyPrefix = "OK..."

// ErrServerClosed is returned by Serve after Close or Shutdown.
var ErrServerClosed = errors.New("threaded: server closed")

// Server greets every client and answers each line it sends, each client
// on its own goroutine. The zero value is ready to use.
type Server struct {
	// Log gets a line for each thing the server does. Nil means no logging.
	Log *log.Logger

	// MaxLineLength bounds a line from a client, "\n" included: a longer one
	// gets an error line, and a hang-up. Zero means DefaultMaxLineLength.
	MaxLineLength int

	// Timeout bounds the wait for each line from a client and each reply
	// to it. Zero means DefaultTimeout.
	Timeout time.Duration

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conns  map[net.Conn]struct{} // the clients being served, so that Close can end them
	closed bool
	wg     sync.WaitGroup // one for each client goroutine
}

// Serve accepts connections on ln and serves each on a goroutine of its own.
// It returns ErrServerClosed after Close or Shutdown, or the error that
// stopped Accept, and closes ln. Call it once per Server.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) {
		return ErrServerClosed
	}

	s.logf("listening on %s", ln.Addr())
	for {
		conn, err := s.accept(ln) // ln.Accept, retried when out of descriptors
		if err != nil {
			// Close makes Accept fail: ask whether we are closing before
			// treating the error as a real one.
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		// What changed since chapter 02: s.accept above, trackConn (for Close
		// and Shutdown), and `go`: the loop goes straight back to Accept.
		if !s.trackConn(conn) { // closed meanwhile: too late for this one
			conn.Close()
			continue
		}
		go s.handleConn(conn)
	}
}

// handleConn talks to one client until it leaves, then hangs up. It runs on
// a goroutine of its own, which trackConn has counted in s.wg.
func (s *Server) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.untrackConn(conn)

	s.logf("connected with %s", conn.RemoteAddr())
	lines, err := s.talk(conn)
	s.hangUp(conn, lines, err)
}

// talk greets conn's client, then answers its lines until it closes its
// side, which is a nil error. It returns how many lines it answered.
func (s *Server) talk(conn net.Conn) (lines int, err error) {
	if err := s.send(conn, Welcome); err != nil {
		return 0, err
	}
	// A Read returns what has arrived: half a line, or three and a bit. The
	// Scanner holds bytes until a line is whole, and MaxLineLength at most.
	sc := bufio.NewScanner(conn)
	sc.Buffer(nil, s.maxLineLength())
	// A last line cut short by an error (a timeout, Shutdown) is no line.
	for s.waitForLine(conn) && sc.Scan() && sc.Err() == nil {
		// sc.Text has no "\n"; it also drops a "\r" before it (telnet).
		if err := s.send(conn, ReplyPrefix+sc.Text()+"\n"); err != nil {
			return lines, err
		}
		lines++
	}
	return lines, s.lastWords(conn, sc.Err())
}

// send writes msg to conn, giving up after the timeout.
func (s *Server) send(conn net.Conn, msg string) error {
	conn.SetWriteDeadline(time.Now().Add(s.timeout()))
	_, err := io.WriteString(conn, msg)
	return err // a *net.OpError: "write tcp4 ADDR->ADDR: broken pipe"
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
