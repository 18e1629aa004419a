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
	"unicode/utf8"

	"example.com/sockets/06-app-protocol/message"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("app: server closed")

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

	requests, rejected atomic.Int64

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
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{Requests: s.requests.Load(), Rejected: s.rejected.Load()}
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

// admit tracks nc and counts its goroutine, unless the server is closed.
func (s *Server) admit(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return false
	}
	s.conns[nc] = struct{}{}
	s.wg.Add(1)
	return true
}

// hold keeps nc open, unread, until the server closes.
func (s *Server) hold(nc net.Conn) {
	defer s.wg.Done()
	<-s.done
	s.forget(nc)
	nc.Close()
}

// serve reads requests from nc and answers them, in order, until the
// client closes its side, stays silent too long, or sends something that
// is not a request.
//
// Reading goes through a message.Parser, as the tutorial's Message class
// does: each Read's bytes are fed to it, and it hands back the requests
// they complete. Its Pending count tells serve which deadline applies: the
// idle timeout between requests, or the read timeout, counted from a
// request's first byte, so that a client trickling a byte at a time
// cannot hold the connection any longer than a silent one.
func (s *Server) serve(nc net.Conn) {
	addr := nc.RemoteAddr().String()
	p := message.Parser{MaxContent: s.MaxContent}
	idle := orDefault(s.IdleTimeout, DefaultIdleTimeout)
	readTimeout := orDefault(s.ReadTimeout, DefaultReadTimeout)
	buf := make([]byte, readSize)
	var out []byte // responses waiting to be written
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
					s.reject(nc, addr, out, rerr)
					return
				}
			}
			if perr != nil {
				s.reject(nc, addr, append(out, errorResponse(perr)...), perr)
				return
			}
			if len(out) > 0 {
				if werr := s.write(nc, out, addr); werr != nil {
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

// respond answers one request, and logs it as the tutorial does.
func (s *Server) respond(req message.Message, addr string) (message.Message, error) {
	s.requests.Add(1)
	resp, err := Respond(req)
	if err == nil && !s.Quiet {
		if req.ContentType == message.TypeJSON {
			s.logf("received request %s from %s", shorten(req.Content), addr)
		} else {
			s.logf("received %s request from %s", req.ContentType, addr)
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
// disconnected.
func errorResponse(err error) []byte {
	content, _ := message.AppendObject(nil, "result", "Error: "+err.Error()+".")
	b, _ := message.Append(nil, jsonMessage(content))
	return b
}

// reject ends a connection whose client sent something that is not a
// request: it sends out (the responses due, the last one saying what was
// wrong) if the client still listens, logs one line, and hangs up.
func (s *Server) reject(nc net.Conn, addr string, out []byte, why error) {
	s.rejected.Add(1)
	// A client that sent garbage may not read either: a short deadline.
	nc.SetWriteDeadline(time.Now().Add(min(time.Second, orDefault(s.WriteTimeout, DefaultWriteTimeout))))
	nc.Write(out)
	s.hangUp(nc, addr, fmt.Errorf("rejected: %w", why), linger)
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
	// abort: a write failed, so there is no response left to protect,
	// and the bytes queued for the client would keep the connection
	// half-alive in the kernel. Close with a reset instead.
	abort
)

// hangUp ends serve: it logs why the connection ends (nil: the client was
// done), forgets it, and closes it the way how says. The line comes first,
// so that once the client sees the connection close, the log already says
// why.
func (s *Server) hangUp(nc net.Conn, addr string, why error, how int) {
	defer s.wg.Done()
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
		if tc, ok := nc.(*net.TCPConn); ok {
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

// shorten returns JSON content for a log line, cut at shown bytes.
func shorten(b []byte) string {
	if len(b) <= shown {
		return string(b)
	}
	cut := shown
	for cut > 0 && !utf8.RuneStart(b[cut]) {
		cut-- // not in the middle of a character
	}
	return fmt.Sprintf("%s... (%d bytes)", b[:cut], len(b))
}

// orDefault returns v, or def when v is zero or less.
func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}
