package reverse

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// DefaultAddr is the tutorial's port 7342, on the loopback interface.
const DefaultAddr = "127.0.0.1:7342"

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("reverse: server closed")

// Server answers each client once, the way the tutorial's server does: it
// reads what the client has sent, writes it back reversed, and closes the
// connection. It serves every client on a goroutine of its own. The zero
// value is ready to use.
//
// The server answers what its first read returns, up to ReadSize bytes.
// That is not framing: a read returns what has arrived so far, and a client
// that sends its text in two writes may get only the first one reversed.
// It works for a short text sent in one write, which arrives in one piece
// on the loopback interface and almost always elsewhere. A protocol that
// must not depend on that needs framing, as in 06-app-protocol.
type Server struct {
	// Log gets a line for each step of each connection. Nil means no
	// logging.
	Log *log.Logger

	// ReverseBytes makes the server reverse raw bytes, as the tutorial
	// does, instead of runes. See Bytes.
	ReverseBytes bool

	// ReadSize is the most bytes the server takes from a client. More
	// than that is ignored: the client gets the first ReadSize bytes
	// reversed. When reversing runes, a read that ends partway through a
	// rune is topped up with the rest of that rune, so the answer may be
	// up to 3 bytes longer. Zero means DefaultReadSize.
	ReadSize int

	// Timeout bounds the wait for the client's first bytes, and then, anew,
	// the wait for the answer to be written. Zero means DefaultTimeout.
	Timeout time.Duration

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conns  map[net.Conn]struct{} // the connections being answered, for Close
	closed bool
	wg     sync.WaitGroup // one for each connection's goroutine
}

// Serve accepts connections on ln and answers each one on a goroutine of
// its own. When Accept fails for want of descriptors or memory, Serve logs
// the error and tries again 50ms later (see accept). It returns
// ErrServerClosed after Close, or any other error from Accept, and closes
// ln. A Server serves one listener: call Serve once.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) {
		return ErrServerClosed
	}

	s.logf("listening on %s", ln.Addr())
	for {
		conn, err := s.accept(ln) // ln.Accept, retried when out of descriptors
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("accept: %w", err)
		}
		if !s.trackConn(conn) {
			conn.Close() // Close was called while Accept returned
			continue
		}
		go s.handleConn(conn)
	}
}

// handleConn answers one client and closes its connection. trackConn has
// counted it in s.wg.
func (s *Server) handleConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.untrackConn(conn)

	peer := conn.RemoteAddr()
	s.logf("connection from %s", peer)
	if err := s.answer(conn); err != nil {
		if s.isClosed() {
			err = errors.New("server stopped") // not "use of closed network connection"
		}
		s.logf("closing connection to %s: %v", peer, err)
		conn.Close()
		return
	}
	// The client may have sent more than the one read took, or may still
	// be sending. Closing a socket with unread input sends a reset, which
	// can destroy the answer before the client reads it; lingerClose
	// sends a normal end of stream first.
	switch ignored := lingerClose(conn); ignored {
	case 0:
		s.logf("closing connection to %s", peer)
	case 1:
		s.logf("closing connection to %s (ignored 1 more byte from it)", peer)
	default:
		s.logf("closing connection to %s (ignored %d more bytes from it)", peer, ignored)
	}
	conn.Close()
}

// answer reads what the client sends and writes it back reversed.
func (s *Server) answer(conn net.Conn) error {
	peer := conn.RemoteAddr()
	conn.SetReadDeadline(time.Now().Add(s.timeout()))
	data, err := s.receive(conn)
	switch {
	case errors.Is(err, io.EOF) && len(data) == 0:
		// The client shut down its sending side without sending
		// anything. There is nothing to reverse, and nothing to wait for.
		s.logf("received nothing from %s: it shut down its sending side", peer)
		return nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return fmt.Errorf("nothing received for %v", s.timeout())
	case err != nil && len(data) == 0:
		return err
	}
	s.logf("received %d bytes from %s: %s", len(data), peer, logQuote(data))

	var reply []byte
	if s.ReverseBytes {
		reply = Bytes(data)
	} else {
		reply = Runes(data)
	}
	// The write gets a deadline of its own: the reads may have used up
	// theirs, waiting for the rest of a rune that never came.
	conn.SetWriteDeadline(time.Now().Add(s.timeout()))
	if _, err := conn.Write(reply); err != nil {
		return err
	}
	s.logf("sent %d bytes to %s: %s", len(reply), peer, logQuote(reply))
	return nil
}

// receive makes one read of up to ReadSize bytes, like the tutorial's
// recv(1024). When reversing runes, it then reads the rest of a rune that
// the read cut in two, one byte at a time. An error that ends those extra
// reads is dropped: the bytes that did arrive are answered.
func (s *Server) receive(conn net.Conn) ([]byte, error) {
	size := s.readSize()
	buf := make([]byte, size, size+3)
	n, err := conn.Read(buf)
	buf = buf[:n]
	if err != nil || s.ReverseBytes {
		return buf, err
	}
	for incompleteRune(buf) {
		var b [1]byte
		if _, err := conn.Read(b[:]); err != nil {
			break
		}
		buf = append(buf, b[0])
	}
	return buf, nil
}

// logShown is how many of a client's bytes a log line shows: enough to
// recognise the text, and no more, whatever the client sends.
const logShown = 200

// logQuote returns b as a Go string literal, for a log line: escaped, so
// that no byte of b can end the line or start a forged one (a line break
// shows as \n, DEL as \x7f, a byte that is not UTF-8 as \xff), and cut to
// its first logShown bytes, followed by "...", when it is longer. The log
// line says how many bytes there were.
func logQuote(b []byte) string {
	if len(b) <= logShown {
		return fmt.Sprintf("%q", b)
	}
	cut := logShown
	for cut > logShown-utf8.UTFMax+1 && !utf8.RuneStart(b[cut]) {
		cut-- // keep a character whole
	}
	return fmt.Sprintf("%q...", b[:cut])
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
