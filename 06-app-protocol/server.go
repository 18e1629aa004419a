package app

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"example.com/sockets/06-app-protocol/message"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("app: server closed")

// ErrBusy is what a client is told, in an "Error: server busy: …" result,
// before the server hangs up on it for want of room: MaxConns connections
// are open already, or the requests in progress hold so much of MaxMemory
// that its request does not fit. It may try again later.
var ErrBusy = errors.New("server busy")

// smallRequest is the size, header and content, up to which a request
// takes nothing from MaxMemory. Every connection may hold one that size,
// so that requests in progress cannot crowd out an ordinary request of a
// few hundred bytes; MaxConns bounds what they cost all together.
const smallRequest = 4 << 10

// readSize is how much one Read asks for: the tutorial's recv(4096).
const readSize = 4096

// shown is how many bytes of a message a log line shows.
const shown = 200

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

	// NeverRead makes a server that accepts connections and never reads
	// from them: the tutorial's app-server-test.py, for watching the
	// kernel's buffers fill. It is a demonstration, not a server.
	NeverRead bool

	requests, rejected, refused atomic.Int64
	held                        atomic.Int64 // bytes of MaxMemory taken by requests in progress

	mu        sync.Mutex
	closed    bool
	done      chan struct{} // closed by Close
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup // one per connection goroutine
}

// Stats are the server's counters at one moment.
type Stats struct {
	Requests int64 // whole requests received and answered, bad ones included
	Rejected int64 // clients disconnected for sending something that is not a request
	Refused  int64 // clients turned away with ErrBusy: too many connections, or no room for a request
	Open     int64 // connections open now
	Held     int64 // bytes of MaxMemory that requests in progress hold now
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests: s.requests.Load(),
		Rejected: s.rejected.Load(),
		Refused:  s.refused.Load(),
		Open:     int64(s.open()),
		Held:     s.held.Load(),
	}
}

// open returns how many connections the server is serving.
func (s *Server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Serve accepts connections on ln and serves each on a goroutine of its
// own. When Accept fails for want of descriptors or memory, Serve logs the
// error and tries again 50ms later. It returns ErrServerClosed after Close,
// or any other error from Accept. Serve closes ln before it returns.
func (s *Server) Serve(ln net.Listener) error {
	if !s.track(ln) {
		ln.Close()
		return ErrServerClosed
	}
	defer s.untrack(ln)
	defer ln.Close()

	if s.NeverRead {
		s.logf("listening on %s (and never reading)", ln.Addr())
	} else {
		s.logf("listening on %s", ln.Addr())
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			if !outOfResources(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of descriptors or memory, as in chapter 05: the
			// clients already connected are still served, and one
			// that leaves gives its descriptor back. Say so, wait, and
			// try again.
			s.logf("accept: %v", err)
			time.Sleep(acceptRetry)
			continue
		}
		if !s.admit(nc) {
			continue
		}
		if !s.Quiet {
			s.logf("accepted connection from %s", nc.RemoteAddr())
		}
		if s.NeverRead {
			go s.hold(nc)
		} else {
			go s.serve(nc)
		}
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

// admit tracks nc and counts its goroutine, unless the server is closed or
// full, as in chapter 05. A client over MaxConns is told why, in a JSON
// result, and its connection closed. Only the decision is made under
// s.mu: logging and writing to a refused client happen after, so that
// neither can hold up the other connections.
func (s *Server) admit(nc net.Conn) bool {
	s.mu.Lock()
	closed := s.closed
	open := len(s.conns)
	full := open >= orDefault(s.MaxConns, DefaultMaxConns)
	if !closed && !full {
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
	}
	s.mu.Unlock()

	switch {
	case closed:
		nc.Close()
		return false
	case full:
		s.refused.Add(1)
		s.logf("refused connection from %s: %s open", nc.RemoteAddr(), plural(open, "connection"))
		// The answer is small enough for the socket's send buffer, so
		// this Write does not wait for the client. The deadline makes
		// sure of it.
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		nc.Write(tooManyConns)
		nc.Close()
		return false
	}
	return true
}

// tooManyConns is the answer to a client over MaxConns.
var tooManyConns = errorResponse(fmt.Errorf("%w: too many connections, try again later", ErrBusy))

// hold keeps nc open, unread, until the server closes.
func (s *Server) hold(nc net.Conn) {
	defer s.wg.Done()
	<-s.done
	s.forget(nc)
	nc.Close()
}

// serve reads requests from nc and answers them, in order, until the
// client closes its side, stays silent too long, sends something that
// is not a request, or sends one the server has no room for.
//
// Reading goes through a message.Parser, as the tutorial's Message class
// does: each Read's bytes are fed to it, and it hands back the requests
// they complete. Its Pending count tells serve which deadline applies: the
// idle timeout between requests, or the read timeout, counted from a
// request's first byte, so that a client trickling a byte at a time
// cannot hold the connection any longer than a silent one. Its Expected
// size tells serve how much memory the request in progress will need, as
// soon as its header is in: serve takes that much from MaxMemory before
// the content comes, or refuses the request (see reserve).
func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done() // last: after the budget is given back, below
	addr := nc.RemoteAddr().String()
	p := message.Parser{MaxContent: s.MaxContent}
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	readTimeout := orDefault(s.ReadTimeout, DefaultReadTimeout)
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
	nc.SetReadDeadline(time.Now().Add(idle))
	for {
		n, err := nc.Read(buf)
		if n > 0 {
			began := p.Pending() == 0
			reqs, perr := p.Feed(buf[:n])
			out = out[:0]
			for _, req := range reqs {
				resp, rerr := s.respond(req, addr)
				out, _ = message.Append(out, resp) // a response always fits its header
				if rerr != nil {
					release()
					s.reject(nc, addr, out, rerr)
					return
				}
			}
			if perr != nil {
				release()
				s.reject(nc, addr, append(out, errorResponse(perr)...), perr)
				return
			}
			var herr error
			if held, herr = s.reserve(held, p.Expected()); herr != nil {
				release()
				s.reject(nc, addr, append(out, errorResponse(herr)...), herr)
				return
			}
			if len(out) > 0 {
				if werr := s.write(nc, out, addr); werr != nil {
					release()
					s.hangUp(nc, addr, werr, abort)
					return
				}
			}
			switch {
			case p.Pending() == 0: // between requests
				nc.SetReadDeadline(time.Now().Add(idle))
			case began || len(reqs) > 0: // a new request has begun
				nc.SetReadDeadline(time.Now().Add(readTimeout))
			}
		}
		if err != nil {
			s.readFailed(nc, addr, &p, err, idle, readTimeout)
			return
		}
	}
}

// reserve makes the share of MaxMemory a connection holds fit its request in
// progress: given what it holds now and the request's expected size
// (message.Parser.Expected), it takes more or gives some back, and
// returns what it holds then. A request of at most smallRequest bytes
// needs nothing; a bigger one needs its whole size, taken once its header
// is in and before its content comes. When that much is not left, reserve
// returns an error wrapping ErrBusy, and the request is refused: better
// an answer now than a queue without end.
//
// What a request holds in memory follows what has arrived (the Parser
// reads content 16 KiB at a time, whatever the header announced); what it
// takes from MaxMemory is what it may come to hold. So requests in
// progress never hold more than MaxMemory, however many clients announce
// a megabyte and stall.
func (s *Server) reserve(held, size int) (int, error) {
	need := size
	if need <= smallRequest {
		need = 0
	}
	if need > held && !s.take(need-held) {
		return held, fmt.Errorf("%w: not enough memory for a request of %d bytes now, try again later", ErrBusy, size)
	}
	if need < held {
		s.held.Add(int64(need - held))
	}
	return need, nil
}

// take takes n bytes of MaxMemory, if there are that many left.
func (s *Server) take(n int) bool {
	limit := int64(orDefault(s.MaxMemory, DefaultMaxMemory))
	for {
		used := s.held.Load()
		if used+int64(n) > limit {
			return false
		}
		if s.held.CompareAndSwap(used, used+int64(n)) {
			return true
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
func (s *Server) write(nc net.Conn, out []byte, addr string) error {
	if !s.Quiet {
		s.logf("sending %s to %s", Repr(out, shown), addr)
	}
	nc.SetWriteDeadline(time.Now().Add(orDefault(s.WriteTimeout, DefaultWriteTimeout)))
	if _, err := nc.Write(out); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// readFailed ends the connection after a Read error: the client's EOF
// (the normal end, unless it came in the middle of a request), a
// deadline, or a network error.
func (s *Server) readFailed(nc net.Conn, addr string, p *message.Parser, err error, idle, readTimeout time.Duration) {
	switch {
	case errors.Is(err, io.EOF):
		if terr := p.End(); terr != nil {
			s.reject(nc, addr, errorResponse(terr), terr)
			return
		}
		s.hangUp(nc, addr, nil, justClose)
	case errors.Is(err, os.ErrDeadlineExceeded) && p.Pending() == 0:
		s.hangUp(nc, addr, fmt.Errorf("idle for %v", idle), justClose)
	case errors.Is(err, os.ErrDeadlineExceeded):
		terr := fmt.Errorf("request not complete after %v (%d bytes received)", readTimeout, p.Pending())
		s.reject(nc, addr, errorResponse(terr), terr)
	default:
		s.hangUp(nc, addr, fmt.Errorf("read: %w", err), justClose)
	}
}

// errorResponse is the JSON result that tells a client why it is being
// disconnected. Every error that quotes what a client sent quotes it
// cut (message.Quote), so the answer is a few hundred bytes at most.
func errorResponse(err error) []byte {
	content, _ := message.AppendObject(nil, "result", "Error: "+err.Error()+".")
	b, _ := message.Append(nil, jsonMessage(content))
	return b
}

// reject ends a connection whose client sent something that is not a
// request, or a request the server has no room for (ErrBusy: the client
// is refused, not rejected): it sends out (the responses due, the last
// one saying what was wrong) if the client still listens, logs one line,
// and hangs up: politely if the client took the answer, with a reset if
// it did not.
func (s *Server) reject(nc net.Conn, addr string, out []byte, why error) {
	verdict := "rejected"
	if errors.Is(why, ErrBusy) {
		s.refused.Add(1)
		verdict = "refused"
	} else {
		s.rejected.Add(1)
	}
	// A client that sent garbage may not read either: a short deadline.
	nc.SetWriteDeadline(time.Now().Add(min(time.Second, orDefault(s.WriteTimeout, DefaultWriteTimeout))))
	how := linger
	if _, err := nc.Write(out); err != nil {
		how = abort // it is not reading: see abort
	}
	s.hangUp(nc, addr, fmt.Errorf("%s: %w", verdict, why), how)
}

// How hangUp closes a connection.
const (
	justClose = iota
	// linger: the client may still be sending, and closing with unread
	// bytes in the socket sends a reset, which can destroy the last
	// response before the client reads it. So close only the sending
	// side first, then read and drop what the client still sends, for a
	// second at most: a "lingering close".
	linger
	// abort: a write failed (the client took nothing for the whole
	// write timeout), so there is no response left to protect. A polite
	// close would queue the FIN behind the bytes the client is not
	// taking: the client would never see it, and the kernel would keep
	// the socket and those bytes for minutes while the client stays
	// connected. Close with a reset instead (SetLinger(0)): the
	// kernel sends RST, frees the send buffer at once, and the client
	// learns the connection is gone as soon as it looks.
	abort
)

// hangUp ends serve: it logs why the connection ends (nil: the client was
// done), forgets it, and closes it the way how says. The line comes first,
// so that once the client sees the connection close, the log already says
// why.
func (s *Server) hangUp(nc net.Conn, addr string, why error, how int) {
	switch {
	case why == nil:
		if !s.Quiet {
			s.logf("closing connection to %s", addr)
		}
	case s.isClosed():
		s.logf("closing connection to %s: server closing", addr)
	default:
		s.logf("closing connection to %s: %v", addr, why)
	}
	switch {
	case s.isClosed():
	case how == linger:
		if cw, ok := nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		nc.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(nc, 1<<20))
	case how == abort:
		if tc, ok := nc.(interface{ SetLinger(sec int) error }); ok {
			tc.SetLinger(0)
		}
	}
	s.forget(nc)
	nc.Close()
}

// Close stops the server: it closes the listeners and every connection,
// then waits until every connection's goroutine has ended. Close may be
// called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		if s.done != nil {
			close(s.done)
		}
	}
	var err error
	for ln := range s.listeners {
		if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
			err = cerr
		}
	}
	for nc := range s.conns {
		nc.Close()
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if s.listeners == nil {
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
		s.done = make(chan struct{})
	}
	s.listeners[ln] = struct{}{}
	return true
}

func (s *Server) untrack(ln net.Listener) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.listeners, ln)
}

func (s *Server) forget(nc net.Conn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, nc)
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
