// Package chat is chapter 04 of the course: a chat room, built twice.
//
// Server is the Go way: one goroutine, the hub, owns the room and handles
// joins, leaves and messages in a select statement; every connection has a
// reader goroutine that feeds the hub and a writer goroutine that empties a
// bounded outbox. PollServer (unix only) is the tutorial's way: a single
// loop over non-blocking sockets that asks poll(2) which of them are ready.
// Both speak the protocol described in protocol.go, and both pass the same
// tests.
//
// What changed since 03-threaded: the clients talk to each other, so there
// is shared state (who is in the room), and one goroutine owns it instead
// of a mutex guarding it. A client that stops reading must not stall the
// others, so nobody ever waits for a client: the hub drops it instead.
package chat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"syscall"
	"time"
)

// Server is a chat room whose state belongs to one goroutine, the hub. The
// zero value is ready to use.
type Server struct {
	// Log gets a line when a client joins or leaves. Nil means no logging.
	Log *log.Logger

	// MaxLineLength is the longest line, counting its "\n", that a client
	// may send; a longer one gets an error line and the client is
	// disconnected. Zero means DefaultMaxLineLength.
	MaxLineLength int

	// Outbox is how many messages may wait for a client. When the hub
	// has a message for a client whose outbox is full, the client is
	// disconnected. Zero means DefaultOutbox.
	Outbox int

	// Timeout bounds each write to a client. Zero means DefaultTimeout.
	Timeout time.Duration

	// The hub's inbox: readers and writers send, only the hub receives.
	join  chan *member
	leave chan departure
	said  chan message
	done  chan struct{} // closed by Close: the hub and everybody stop

	mu        sync.Mutex
	started   bool
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	wg        sync.WaitGroup // the hub and one serveConn per connection
}

// member is one client in the room.
type member struct {
	conn   net.Conn
	addr   string      // conn.RemoteAddr().String(), as the room names it
	outbox chan []byte // messages for the writer; only the hub sends or closes
}

// message is a line a member said.
type message struct {
	from *member
	line []byte
}

// departure is a member leaving the room, and why: nil for a client that
// hung up normally.
type departure struct {
	m      *member
	reason error
}

// errOutboxFull is why a client that falls behind is disconnected.
var errOutboxFull = errors.New("not reading (outbox full)")

// lineTooLong is why a client that sends a line longer than the limit is
// disconnected.
type lineTooLong struct{ max int }

func (e lineTooLong) Error() string { return fmt.Sprintf("line longer than %d bytes", e.max) }

// Serve accepts connections on ln and brings each client into the room.
// When Accept fails for want of descriptors or memory, Serve logs the error
// and tries again 50ms later. It returns ErrServerClosed after Close, or any
// other error from Accept. Serve closes ln before it returns.
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
			if s.isClosed() {
				return ErrServerClosed
			}
			if !outOfResources(err) {
				return fmt.Errorf("accept: %w", err)
			}
			// Out of descriptors or memory, as PollServer handles it
			// too: the room goes on, and each client that leaves
			// gives a descriptor back. Say so, wait, and try again.
			s.logf("accept: %v", err)
			time.Sleep(acceptRetry)
			continue
		}
		if !s.trackConn(conn) {
			conn.Close()
			continue
		}
		go s.serveConn(conn)
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

// hub owns the room: which members are in it, and what each is sent. It is
// the only goroutine that touches the members map, so the map needs no
// lock. It never waits for a client: see room.send.
func (s *Server) hub() {
	defer s.wg.Done()
	r := &room{s: s, members: make(map[*member]struct{})}
	for {
		select {
		case m := <-s.join:
			r.members[m] = struct{}{}
			s.logf("client %s connected", m.addr)
		case d := <-s.leave:
			r.remove(d.m, d.reason)
		case msg := <-s.said:
			if _, ok := r.members[msg.from]; !ok {
				continue // said just before it was dropped
			}
			r.send(msg.from, okLine(msg.line))
			r.broadcast(msg.from, saidLine(msg.from.addr, msg.line))
		case <-s.done:
			return // Close closes the connections
		}
		r.dropSlow()
	}
}

// room is the hub's state. Its methods run on the hub goroutine only.
type room struct {
	s       *Server
	members map[*member]struct{}
	slow    []*member // outbox full: to be dropped once the current event is handled
}

// send queues msg for m without ever blocking. If m's outbox is full, m is
// not keeping up, and waiting for it would stall the whole room: m is
// dropped instead.
func (r *room) send(m *member, msg []byte) {
	select {
	case m.outbox <- msg:
	default:
		r.slow = append(r.slow, m)
	}
}

// broadcast sends msg to every member but from (nil: to everybody).
func (r *room) broadcast(from *member, msg []byte) {
	for m := range r.members {
		if m != from {
			r.send(m, msg)
		}
	}
}

// remove takes m out of the room and tells the others. Closing m's outbox
// tells m's writer to send what is queued, then hang up; a member that is
// too slow is not worth waiting for, and its connection is closed at once.
func (r *room) remove(m *member, reason error) {
	if _, ok := r.members[m]; !ok {
		return // already gone: its reader and writer both report it
	}
	delete(r.members, m)
	var tooLong lineTooLong
	switch {
	case errors.As(reason, &tooLong):
		r.send(m, tooLongLine(tooLong.max))
	case errors.Is(reason, errOutboxFull):
		m.conn.Close()
	}
	close(m.outbox)
	if reason == nil {
		r.s.logf("client %s is offline", m.addr)
	} else {
		r.s.logf("client %s is offline: %v", m.addr, reason)
	}
	r.broadcast(nil, offlineLine(m.addr))
}

// dropSlow removes the members whose outbox was full. Telling the others
// may find more of them; the loop ends when the room is empty at worst.
func (r *room) dropSlow() {
	for len(r.slow) > 0 {
		m := r.slow[0]
		r.slow = r.slow[1:]
		r.remove(m, errOutboxFull)
	}
}

// serveConn runs one client's connection: it starts the writer, joins the
// room, and reads lines until the client leaves. It returns once the writer
// has finished too, and closes conn.
func (s *Server) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.untrackConn(conn)
	defer conn.Close()

	m := &member{conn: conn, addr: conn.RemoteAddr().String(), outbox: make(chan []byte, s.outbox())}
	written := make(chan struct{})
	go func() {
		defer close(written)
		s.write(m)
	}()
	defer func() { <-written }()

	if !tell(s, s.join, m) {
		return
	}
	reason := s.read(m)
	if !tell(s, s.leave, departure{m, reason}) {
		return
	}
	if errors.As(reason, new(lineTooLong)) {
		// The writer sends the error line, then FIN. Reading what
		// the client still sends meanwhile keeps the kernel from
		// answering it with a reset that would lose the error line.
		conn.SetReadDeadline(time.Now().Add(time.Second))
		io.Copy(io.Discard, io.LimitReader(conn, 1<<20))
	}
}

// read passes the lines m sends to the hub until m hangs up (nil) or a
// read fails.
func (s *Server) read(m *member) error {
	sc := bufio.NewScanner(m.conn)
	sc.Buffer(nil, s.maxLineLength())
	for sc.Scan() {
		if sc.Err() != nil {
			break // an error, not a newline or EOF, ended this line
		}
		// sc.Bytes is overwritten by the next Scan: the hub gets a copy.
		line := append([]byte(nil), sc.Bytes()...)
		if !tell(s, s.said, message{m, line}) {
			return ErrServerClosed
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return lineTooLong{s.maxLineLength()}
	case err != nil:
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// write sends m's outbox to the client until the hub closes the outbox;
// then it half-closes the connection, which the client reads as EOF. A
// failed write takes m out of the room.
//
// Whatever is waiting in the outbox when the writer wakes up goes out in
// one Write (up to maxBatch bytes): one system call, not one per message.
func (s *Server) write(m *member) {
	var batch []byte
	for {
		var msg []byte
		var open bool
		select {
		case msg, open = <-m.outbox:
		case <-s.done:
			return
		}
		batch = append(batch[:0], msg...)
	more:
		for open && len(batch) < maxBatch {
			select {
			case msg, open = <-m.outbox:
				batch = append(batch, msg...)
			default:
				break more
			}
		}
		if len(batch) > 0 {
			m.conn.SetWriteDeadline(time.Now().Add(s.timeout()))
			if _, err := m.conn.Write(batch); err != nil {
				tell(s, s.leave, departure{m, fmt.Errorf("write: %w", err)})
				m.conn.Close() // wakes the reader
				return
			}
		}
		if !open {
			if tc, ok := m.conn.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
			return
		}
	}
}

// maxBatch is the most the writer sends in one Write.
const maxBatch = 64 << 10

// tell sends v to the hub on ch, unless the server is closing. It reports
// whether the hub got it.
func tell[T any](s *Server, ch chan<- T, v T) bool {
	select {
	case ch <- v:
		return true
	case <-s.done:
		return false
	}
}

// Close stops the server: it closes the listeners and every connection,
// stops the hub, and returns once every goroutine the server started has
// ended. Close may be called more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	var err error
	if !s.closed {
		s.closed = true
		if s.started {
			close(s.done)
		}
		for ln := range s.listeners {
			if cerr := ln.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) {
				err = cerr
			}
		}
		for c := range s.conns {
			c.Close()
		}
	}
	s.mu.Unlock()

	s.wg.Wait()
	return err
}

// track records ln, and starts the hub the first time; it reports false if
// the server is closed.
func (s *Server) track(ln net.Listener) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	if !s.started {
		s.started = true
		s.join = make(chan *member)
		s.leave = make(chan departure)
		s.said = make(chan message)
		s.done = make(chan struct{})
		s.listeners = make(map[net.Listener]struct{})
		s.conns = make(map[net.Conn]struct{})
		s.wg.Add(1)
		go s.hub()
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
// is closed. Close sets s.closed under s.mu before it waits, so no wg.Add
// races with the Wait.
func (s *Server) trackConn(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
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

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) maxLineLength() int { return orDefault(s.MaxLineLength, DefaultMaxLineLength) }

func (s *Server) outbox() int { return orDefault(s.Outbox, DefaultOutbox) }

func (s *Server) timeout() time.Duration { return orDefault(s.Timeout, DefaultTimeout) }

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
