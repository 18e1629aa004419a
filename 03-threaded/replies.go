package threaded

// The client's bookkeeping of the replies it is owed. Chapter 03 adds it:
// its client checks every reply against the line it sent, and waits for
// the server only while a reply is due.

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// replies is the queue of replies that are due, shared by the goroutine
// that sends and the one that receives. It also keeps a read deadline on
// conn while any reply is due: Timeout after the latest line sent or reply
// received, and none when nothing is due.
type replies struct {
	conn    net.Conn
	timeout time.Duration

	mu       sync.Mutex
	want     []string // the replies due, oldest first
	answered int      // replies received, the welcome included
	closed   bool     // conn is half-closed: everything is sent
	canceled bool     // the context ended: keep the deadline in the past
}

// newReplies starts with one reply due: the server's welcome.
func newReplies(conn net.Conn, timeout time.Duration) *replies {
	r := &replies{conn: conn, timeout: timeout, want: []string{strings.TrimSuffix(Welcome, "\n")}}
	r.setDeadlineLocked()
	return r
}

// expect is called before a line is sent, with the reply it should get.
func (r *replies) expect(reply string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.want = append(r.want, reply)
	r.setDeadlineLocked()
}

// arrived is called for each line received. It returns an error if the
// line is not the reply due.
func (r *replies) arrived(line string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if line == strings.TrimSuffix(Goodbye, "\n") {
		return errGoodbye // Shutdown: no more replies will come
	}
	if len(r.want) == 0 {
		return fmt.Errorf("unexpected line %s", quoted(line))
	}
	if line != r.want[0] {
		if r.answered == 0 { // the welcome answers no line of ours
			return fmt.Errorf("unexpected greeting %s", quoted(line))
		}
		return fmt.Errorf("unexpected reply %s to line %d", quoted(line), r.answered)
	}
	r.want = r.want[1:]
	r.answered++
	r.setDeadlineLocked()
	return nil
}

// errGoodbye is what Talk says when the server, shutting down, says Goodbye.
var errGoodbye = errors.New("the server is shutting down")

// shownBytes is how much of a line from the network an error message
// shows: enough to recognise it, and no more, whatever the peer sends.
const shownBytes = 64

// quoted returns s as a Go string literal, for an error message: escaped,
// so that no byte of s can end the message's line or start another (a line
// break shows as \n, DEL as \x7f), and cut to its first shownBytes bytes,
// with its size, if it is longer: "OK...xxx"... (1048576 bytes).
func quoted(s string) string {
	if len(s) <= shownBytes {
		return strconv.Quote(s)
	}
	cut := shownBytes
	for cut > shownBytes-utf8.UTFMax+1 && !utf8.RuneStart(s[cut]) {
		cut-- // keep a character whole
	}
	return fmt.Sprintf("%q... (%d bytes)", s[:cut], len(s))
}

func (r *replies) setDeadlineLocked() {
	switch {
	case r.canceled:
	case len(r.want) > 0:
		r.conn.SetReadDeadline(time.Now().Add(r.timeout))
	default:
		r.conn.SetReadDeadline(time.Time{}) // no reply due: wait for the user
	}
}

// cancel wakes every blocked Read and Write with a deadline in the past.
func (r *replies) cancel() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.canceled = true
	r.conn.SetDeadline(time.Unix(1, 0))
}

func (r *replies) pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.want)
}

func (r *replies) markHalfClosed() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
}

func (r *replies) halfClosed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.closed
}
