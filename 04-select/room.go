package chat

// The room: who is in it, what the hub hears from the connections, and what
// the hub does with it. The hub of server.go runs these methods; this file
// is new in chapter 04, where the clients first talk to each other.

import (
	"errors"
	"math"
	"net"
	"sync/atomic"

	"example.com/sockets/04-select/internal/protocol"
)

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

func newMember(conn net.Conn, maxInFlight int) *member {
	return &member{
		conn:        conn,
		addr:        conn.RemoteAddr().String(),
		out:         newOutbox(),
		gone:        make(chan struct{}),
		maxInFlight: int64(maxInFlight),
		freed:       make(chan struct{}, 1),
	}
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
	var tooLong protocol.LineTooLong
	switch {
	case reason == nil:
		m.out.close()
	case errors.As(reason, &tooLong):
		m.out.add(protocol.TooLongLine(tooLong.Max), nil, math.MaxInt)
		m.out.close()
	case errors.As(reason, new(protocol.NotReading)):
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
	r.news = append(r.news, protocol.OfflineLine(m.addr))
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
			r.remove(m, protocol.NotReading{Max: r.s.maxPending()})
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
