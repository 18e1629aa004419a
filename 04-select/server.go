package chat

import (
	"bufio"
	"errors"
	"fmt"
	"log"
	"net"
	"sync"
	"time"

	"example.com/sockets/04-select/internal/protocol"
)

// ErrServerClosed is returned by Serve after Close.
var ErrServerClosed = errors.New("chat: server closed")

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
	// be written to the room, counted for each recipient; while that many
	// wait, the room reads no more from it. Zero means DefaultMaxInFlight.
	MaxInFlight int

	// Timeout bounds each write to a client, of at most about 64 KiB; a
	// client that takes longer is disconnected. Zero means DefaultTimeout.
	Timeout time.Duration

	// The hub's inbox: readers and writers send, only the hub receives.
	join  chan *member
	leave chan departure
	said  chan message
	done  chan struct{} // closed by Close: the hub and everybody stop

	mu     sync.Mutex // guards the fields below: Close runs on another goroutine
	ln     net.Listener
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // the hub and each handleConn, for Close to wait for
}

// Serve accepts connections on ln and brings each client into the room; out
// of descriptors or memory, it logs the error and tries again 50ms later. It
// returns ErrServerClosed after Close, or any other error from Accept, and
// closes ln. Call it once per Server.
func (s *Server) Serve(ln net.Listener) error {
	defer ln.Close()
	if !s.listening(ln) { // and starts the hub
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
		if !s.trackConn(conn) { // for Close, which waits for handleConn
			conn.Close()
			continue
		}
		go s.handleConn(conn)
	}
}

// hub owns the room: which members are in it, and what each is sent. It is
// the only goroutine that touches the members map, so the map needs no
// lock. It never waits for a client: see room.send.
func (s *Server) hub() {
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
			r.send(msg.from, protocol.OKLine(msg.line), msg.from)
			r.broadcast(msg.from, protocol.SaidLine(msg.from.addr, msg.line))
		case <-s.done:
			return // Close closes the connections
		}
		r.settle()
	}
}

// handleConn runs one client's connection: it starts the writer, joins the
// room, and reads lines until the client leaves. It returns once the writer
// has finished too, and closes conn.
func (s *Server) handleConn(conn net.Conn) {
	defer s.untrackConn(conn) // and tells Close that this goroutine is done
	defer conn.Close()
	m := newMember(conn, s.maxInFlight())
	var writer sync.WaitGroup
	writer.Go(func() { s.write(m) })
	defer writer.Wait()

	if !tell(s, s.join, m) {
		return
	}
	reason := s.read(m)
	if !tell(s, s.leave, departure{m, reason}) {
		return
	}
	if errors.As(reason, new(protocol.LineTooLong)) {
		drain(conn) // while the writer sends the error line, then FIN
	} else if reason != nil {
		reset(conn)
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
		if !sc.Scan() || sc.Err() != nil {
			break // the end; a line that an error ended is not whole
		}
		line := append([]byte(nil), sc.Bytes()...) // the next Scan overwrites sc.Bytes
		if !tell(s, s.said, message{m, line}) {
			return ErrServerClosed
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return protocol.LineTooLong{Max: s.maxLineLength()}
	case err != nil:
		return fmt.Errorf("read: %w", err)
	}
	return nil
}

// write sends m's outbox to the client until the hub closes the outbox;
// then it half-closes the connection, which the client reads as EOF. A
// write that fails, or does not complete within Timeout, resets the
// connection and takes m out of the room. Whatever waits in the outbox, up
// to about maxBatch bytes, goes out in one system call: a net.Buffers
// writes the messages where they are, with writev(2), without copying.
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
				closeWrite(m.conn) // FIN: the client reads EOF
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
				// reader's, and the room hears that m left before
				// its freed senders go on. The hub resets m and drops
				// its outbox; so does this, if m had left already.
				tell(s, s.leave, departure{m, fmt.Errorf("write: %w", err)})
				m.out.discard()
				reset(m.conn)
				return
			}
		}
	}
}

func (s *Server) logf(format string, args ...any) {
	if s.Log != nil {
		s.Log.Printf(format, args...)
	}
}
