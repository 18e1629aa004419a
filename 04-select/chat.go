// Package chat is chapter 04 of the course: a chat room, built twice.
//
// Server is the Go way: one goroutine, the hub, owns the room and handles
// joins, leaves and messages in a select statement; every connection has a
// reader goroutine that feeds the hub and a writer goroutine that empties
// the connection's outbox. PollServer (unix only) is the tutorial's way: a
// single loop over non-blocking sockets that asks poll(2) which of them are
// ready. Both speak the protocol described in protocol.go, and both pass the
// same tests.
//
// What changed since 03-threaded: the clients talk to each other, so there
// is shared state (who is in the room), and one goroutine owns it instead
// of a mutex guarding it. A client that stops reading must not stall the
// others, so the hub never waits for a client: it drops one that stops
// reading, and reads no more from one that says more than the room can
// deliver (see backpressure.go).
package chat

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"sync"
	"sync/atomic"
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

	// MaxPending is how many bytes may wait for a client. A client for
	// which more would wait is not reading: it is disconnected. Zero
	// means DefaultMaxPending.
	MaxPending int

	// MaxInFlight is how many bytes of what a client has said may wait to
	// be written to the room, counted for each recipient. While that many
	// wait, the room reads no more from that client. Zero means
	// DefaultMaxInFlight.
	MaxInFlight int

	// Timeout bounds each write to a client, of at most about 64 KiB; a
	// client that takes longer is disconnected. Zero means DefaultTimeout.
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
	conn net.Conn
	addr string        // conn.RemoteAddr().String(), as the room names it
	out  *outbox       // messages for the writer
	gone chan struct{} // closed by the hub when m leaves the room

	// unsent is how many bytes of what m said wait in outboxes, or in a
	// writer's hands. Each writer takes off what it has written, and puts
	// a token in freed when unsent falls under maxInFlight.
	unsent      atomic.Int64
	maxInFlight int64
	freed       chan struct{}

	dropped bool // on the hub's drop list; only the hub uses it
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
			r.removeLeaving() // others leaving at the same moment
		case msg := <-s.said:
			if _, ok := r.members[msg.from]; !ok {
				continue // said just before it was dropped
			}
			r.send(msg.from, okLine(msg.line), msg.from)
			r.broadcast(msg.from, saidLine(msg.from.addr, msg.line))
		case <-s.done:
			return // Close closes the connections
		}
		r.settle()
	}
}

// room is the hub's state. Its methods run on the hub goroutine only.
type room struct {
	s       *Server
	members map[*member]struct{}
	slow    []*member // not reading: to be dropped once the current event is handled
	news    [][]byte  // "Client ADDR is offline" lines, for settle to send
	newsBuf []byte    // where tell keeps them; see outbox.addNews
}

// send queues msg, said by from (nil: the room), for m, and never waits.
// If more than MaxPending bytes would wait for m, m is not reading, and
// waiting for it would stall the whole room: m is dropped instead.
func (r *room) send(m *member, msg []byte, from *member) {
	if !m.dropped && !m.out.add(msg, from, r.s.maxPending()) {
		m.dropped = true // once: it gets nothing more
		r.slow = append(r.slow, m)
	}
}

// broadcast sends msg, said by from, to every member but from (nil: to
// everybody).
func (r *room) broadcast(from *member, msg []byte) {
	for m := range r.members {
		if m != from {
			r.send(m, msg, from)
		}
	}
}

// remove takes m out of the room; settle tells the others. A member that
// hung up still gets what is queued for it, then FIN; one that is not
// reading, or whose connection failed, is reset and its queue thrown away.
// The hub resets the one it drops; the reader or writer that found a
// connection broken resets it, so the hub makes no system call when many
// leave at once.
func (r *room) remove(m *member, reason error) {
	if _, ok := r.members[m]; !ok {
		return // already gone: its reader and writer both report it
	}
	delete(r.members, m)
	close(m.gone)
	var tooLong lineTooLong
	switch {
	case reason == nil:
		m.out.close()
	case errors.As(reason, &tooLong):
		m.out.add(tooLongLine(tooLong.max), nil, math.MaxInt)
		m.out.close()
	case errors.As(reason, new(notReading)):
		reset(m.conn) // which stops its writer, maybe stuck in a write
		m.out.discard()
	default:
		m.out.discard() // the reader or writer that failed resets m.conn
	}
	if reason == nil {
		r.s.logf("client %s is offline", m.addr)
	} else {
		r.s.logf("client %s is offline: %v", m.addr, reason)
	}
	r.news = append(r.news, offlineLine(m.addr))
}

// removeLeaving removes members that are waiting to leave too, if any, up
// to 64: when many leave at once (a network cut, a program that held many
// connections), the room hears of them in batches, not one by one. Then
// the hub goes back to its select, where joins and lines get their turn.
func (r *room) removeLeaving() {
	for range 64 {
		select {
		case d := <-r.s.leave:
			r.remove(d.m, d.reason)
		default:
			return
		}
	}
}

// settle drops the members that were sent more than they read, and tells
// the room who has left. Telling may find more members to drop; each is on
// the list once, so the loop ends, when the room is empty at worst.
func (r *room) settle() {
	for len(r.slow) > 0 || len(r.news) > 0 {
		slow, news := r.slow, r.news
		r.slow, r.news = nil, nil
		for _, m := range slow {
			r.remove(m, notReading{r.s.maxPending()})
		}
		if len(news) > 0 {
			r.tell(news)
		}
	}
}

// tell sends lines, the room's news, to everybody, as one message at the
// end of r.newsBuf. Bytes once in newsBuf never change: a new buffer
// starts when it is full.
func (r *room) tell(lines [][]byte) {
	size := 0
	for _, line := range lines {
		size += len(line)
	}
	if len(r.newsBuf)+size > cap(r.newsBuf) {
		r.newsBuf = make([]byte, 0, max(64<<10, size))
	}
	start := len(r.newsBuf)
	for _, line := range lines {
		r.newsBuf = append(r.newsBuf, line...)
	}
	msg := r.newsBuf[start:]
	for m := range r.members {
		if !m.dropped && !m.out.addNews(msg, r.s.maxPending()) {
			m.dropped = true
			r.slow = append(r.slow, m)
		}
	}
}

// serveConn runs one client's connection: it starts the writer, joins the
// room, and reads lines until the client leaves. It returns once the writer
// has finished too, and closes conn.
func (s *Server) serveConn(conn net.Conn) {
	defer s.wg.Done()
	defer s.untrackConn(conn)
	defer conn.Close()

	m := &member{
		conn:        conn,
		addr:        conn.RemoteAddr().String(),
		out:         newOutbox(),
		gone:        make(chan struct{}),
		maxInFlight: int64(s.maxInFlight()),
		freed:       make(chan struct{}, 1),
	}
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
	if reason != nil && !errors.As(reason, new(lineTooLong)) {
		reset(conn)
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
// read fails. It reads the next line only once less than MaxInFlight bytes
// of what m said wait for the others: until then the kernel's buffers
// fill, and TCP makes the client wait.
func (s *Server) read(m *member) error {
	sc := bufio.NewScanner(m.conn)
	sc.Buffer(nil, s.maxLineLength())
	for {
		for m.unsent.Load() >= m.maxInFlight {
			select {
			case <-m.freed:
			case <-m.gone:
				return nil // dropped: the hub knows why
			case <-s.done:
				return ErrServerClosed
			}
		}
		if !sc.Scan() {
			break
		}
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
// write that fails, or does not complete within Timeout, resets the
// connection and takes m out of the room.
//
// Whatever is waiting in the outbox when the writer wakes up, up to about
// maxBatch bytes, goes out in one system call, not one per message: a
// net.Buffers writes them all where they are, with writev(2), without
// copying them.
func (s *Server) write(m *member) {
	var msgs []queued
	var vec net.Buffers
	for {
		select {
		case <-m.out.ready:
		case <-s.done:
			return
		}
		for {
			var open bool
			msgs, open = m.out.take(msgs[:0], maxBatch)
			if len(msgs) == 0 && !open {
				if tc, ok := m.conn.(*net.TCPConn); ok {
					tc.CloseWrite()
				}
				return
			}
			if len(msgs) == 0 {
				break // wait for more
			}
			vec = vec[:0]
			for _, q := range msgs {
				vec = append(vec, q.msg)
			}
			m.conn.SetWriteDeadline(time.Now().Add(s.timeout()))
			batch := vec // WriteTo consumes batch, not vec
			_, err := batch.WriteTo(m.conn)
			clear(vec)
			delivered(msgs) // or never will be: the senders may go on
			if err != nil {
				// Tell the hub first: it logs this reason, not the
				// reader's once the reset wakes the reader, and the
				// room hears that m left before its senders, freed
				// of what waits for m, go on. The hub resets m and
				// throws its outbox away; so does this, for an m
				// that had already left the room.
				tell(s, s.leave, departure{m, fmt.Errorf("write: %w", err)})
				m.out.discard()
				reset(m.conn)
				return
			}
		}
	}
}

// maxBatch is about the most the writer sends in one system call.
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

func (s *Server) maxPending() int { return orDefault(s.MaxPending, DefaultMaxPending) }

func (s *Server) maxInFlight() int { return orDefault(s.MaxInFlight, DefaultMaxInFlight) }

func (s *Server) timeout() time.Duration { return orDefault(s.Timeout, DefaultTimeout) }

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
