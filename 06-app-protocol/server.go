package app

import (
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"example.com/sockets/06-app-protocol/message"
)

// DefaultAddr is where the commands listen and connect unless told
// otherwise: the tutorial's port on the loopback interface.
const DefaultAddr = "127.0.0.1:65432"

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("app: server closed")

// ErrBusy is what a client is told, in an "Error: server busy: …" result,
// before the server hangs up on it for want of room: MaxConns connections
// are open already, or the requests in progress hold so much of MaxMemory
// that its request does not fit. It may try again later.
var ErrBusy = errors.New("server busy")

// readSize is how much one Read asks for: the tutorial's recv(4096).
const readSize = 4096

// Server answers the tutorial's requests, any number per connection, each
// connection on a goroutine of its own. The zero value is ready to use.
type Server struct {
	// Log gets the tutorial's lines: accepted, received, sending,
	// closing. Nil means no logging.
	Log *log.Logger

	// Quiet keeps only the lines about rejected clients and errors,
	// for load tests.
	Quiet bool

	// MaxContent is the largest content-length accepted; zero means
	// message.DefaultMaxContent (1 MiB). A request over it is refused
	// before a byte of its content is read.
	MaxContent int

	// MaxConns is the most connections served at once; a client beyond
	// it is answered that the server is busy (ErrBusy) and disconnected.
	// Zero means DefaultMaxConns.
	MaxConns int

	// MaxMemory bounds the bytes that requests in progress may hold, all
	// connections together. A request of more than 4 KiB takes its whole
	// size from it as soon as its header says how big it is, before its
	// content arrives, and gives it back once answered; a request that
	// does not fit is answered that the server is busy (ErrBusy), and
	// the connection closed. Zero means DefaultMaxMemory (64 MiB).
	MaxMemory int

	// IdleTimeout is how long a client may stay silent between requests;
	// ReadTimeout how long a request may take to arrive, from its first
	// byte to its last; WriteTimeout how long a client may take to
	// accept a response. Zero means the Default of each.
	IdleTimeout  time.Duration
	ReadTimeout  time.Duration
	WriteTimeout time.Duration

	requests, rejected, refused atomic.Int64 // see Stats
	held                        atomic.Int64 // bytes of MaxMemory taken by requests in progress (budget.go)

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conns  map[net.Conn]struct{} // the connections being served, so that Close can end them
	closed bool
	wg     sync.WaitGroup // one per connection goroutine, so that Close can wait for them
}

// Serve accepts connections on ln and serves each on a goroutine of its
// own. It returns ErrServerClosed after Close, or the error that stopped
// Accept, and closes ln. Call it once per Server.
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
			continue // the server is closed, or full: see trackConn
		}
		if !s.Quiet {
			s.logf("accepted connection from %s", conn.RemoteAddr())
		}
		go s.handleConn(conn)
	}
}

// handleConn reads requests from conn and answers them, in order, until
// the client closes its side, stays silent too long, sends something that
// is not a request, or sends one the server has no room for.
//
// Reading goes through a message.Parser, as the tutorial's Message class
// does: each Read's bytes are fed to it, and it hands back the requests
// they complete. Its Pending count tells handleConn which deadline
// applies: the idle timeout between requests, or the read timeout,
// counted from a request's first byte, so that a client trickling a byte
// at a time cannot hold the connection any longer than a silent one. Its
// Expected size tells handleConn how much memory the request in progress
// will need, as soon as its header is in: handleConn takes that much from
// MaxMemory before the content comes, or refuses the request (reserve).
func (s *Server) handleConn(conn net.Conn) {
	defer s.wg.Done() // last: after the budget is given back, below
	addr := conn.RemoteAddr().String()
	p := message.Parser{MaxContent: s.MaxContent}
	idle, readTimeout := s.idleTimeout(), s.readTimeout()
	buf := make([]byte, readSize)
	var out []byte // responses waiting to be written
	held := 0      // bytes of MaxMemory taken for the request in progress
	// release lets go of the request in progress, if any, and gives its
	// share of MaxMemory back: before a rejection's answer and lingering
	// close, which can take a second or two, and at the end.
	release := func() {
		p.End()
		s.held.Add(-int64(held))
		held = 0
	}
	defer release()
	// drop sends out, the last response saying what was wrong, and hangs up.
	drop := func(out []byte, why error) { release(); s.reject(conn, addr, out, why) }

	conn.SetReadDeadline(time.Now().Add(idle))
	for {
		n, err := conn.Read(buf)
		if n > 0 {
			began := p.Pending() == 0
			reqs, perr := p.Feed(buf[:n])
			out = out[:0]
			for _, req := range reqs {
				resp, rerr := s.respond(req, addr)
				out, _ = message.Append(out, resp) // a response always fits its header
				if rerr != nil {
					drop(out, rerr)
					return
				}
			}
			if perr != nil {
				drop(append(out, errorResponse(perr)...), perr)
				return
			}
			var herr error
			if held, herr = s.reserve(held, p.Expected()); herr != nil {
				drop(append(out, errorResponse(herr)...), herr)
				return
			}
			if len(out) > 0 {
				if werr := s.write(conn, out, addr); werr != nil {
					release()
					s.hangUp(conn, addr, werr, abort)
					return
				}
			}
			switch {
			case p.Pending() == 0: // between requests
				conn.SetReadDeadline(time.Now().Add(idle))
			case began || len(reqs) > 0: // a new request has begun
				conn.SetReadDeadline(time.Now().Add(readTimeout))
			}
		}
		if err != nil {
			s.readFailed(conn, addr, &p, err)
			return
		}
	}
}

// respond answers one request, and logs it as the tutorial does, with
// the client's bytes quoted (see quote).
func (s *Server) respond(req message.Message, addr string) (message.Message, error) {
	s.requests.Add(1)
	resp, err := Respond(req)
	if err == nil && !s.Quiet {
		if req.ContentType == message.TypeJSON {
			s.logf("received request %s from %s", quote(string(req.Content)), addr)
		} else {
			s.logf("received %s request from %s", quote(req.ContentType), addr)
		}
	}
	return resp, err
}

// write sends responses to the client, within the write timeout.
func (s *Server) write(conn net.Conn, out []byte, addr string) error {
	if !s.Quiet {
		s.logf("sending %s to %s", Repr(out, shown), addr)
	}
	conn.SetWriteDeadline(time.Now().Add(s.writeTimeout()))
	if _, err := conn.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
