package chat

// Backpressure, in bytes: what waits for a member, and what a member has
// said that still waits for the others. Both servers follow the same rule:
//
//   - A member is dropped when a write to it (at most about 64 KiB) does not
//     complete within Timeout, or when more than MaxPending bytes wait for
//     it. A member that reads is not dropped for being sent a burst.
//   - A member's next line is read only while less than MaxInFlight bytes
//     of what it has said wait to be written to anybody (counted for each
//     recipient, its own "OK ..." included). So what waits on behalf of a
//     member is at most MaxInFlight, plus the line that took it over; and
//     one message is one []byte, shared by all its recipients.
//
// So a member that pastes a lot is slowed down to the pace of the room, the
// room's memory grows with its members, not with what they say, and a
// member that stops reading holds the others back for at most Timeout,
// until it is dropped.
//
// This file has the hub's half, new in chapter 04; poll/poll_unix.go keeps
// the same accounts in its client struct.

import "sync"

// outbox holds the messages waiting for one member, in order. The hub adds
// to it and never waits; the member's writer takes them out. Two goroutines
// share it, so a mutex guards it.
type outbox struct {
	mu     sync.Mutex
	queue  []queued
	bytes  int           // the length of every message in queue
	closed bool          // nothing more will be added
	ready  chan struct{} // holds a token when the writer has work
}

// queued is a message waiting for one member. msg is shared by every
// member it is sent to; from is the member who said it, nil for the room's
// own notices.
type queued struct {
	msg  []byte
	from *member
}

func newOutbox() *outbox { return &outbox{ready: make(chan struct{}, 1)} }

// add queues msg, said by from, unless the outbox is closed. It reports
// false, and queues nothing, if that would make more than max bytes wait.
func (o *outbox) add(msg []byte, from *member, max int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return true // the member is leaving: its writer takes no more
	}
	if o.bytes+len(msg) > max {
		return false
	}
	if from != nil {
		from.unsent.Add(int64(len(msg)))
	}
	o.queue = append(o.queue, queued{msg, from})
	o.bytes += len(msg)
	wake(o.ready)
	return true
}

// addNews queues line, the room's news, unless the outbox is closed; like
// add, it reports false if that would make more than max bytes wait. line
// is the end of the room's news buffer (see room.tell): if the last
// message in the outbox is the news just before it, in the same buffer,
// that message grows to take line in too. So when many leave at once, a
// member that has not been written to meanwhile holds one message, not
// one for each departure.
func (o *outbox) addNews(line []byte, max int) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return true
	}
	if o.bytes+len(line) > max {
		return false
	}
	o.bytes += len(line)
	if k := len(o.queue) - 1; k >= 0 && o.queue[k].from == nil {
		last := o.queue[k].msg
		if n := len(last); n < cap(last) && &last[:n+1][n] == &line[0] {
			o.queue[k].msg = last[:n+len(line)]
			return true
		}
	}
	o.queue = append(o.queue, queued{line, nil})
	wake(o.ready)
	return true
}

// take moves messages from the outbox to buf, up to about max bytes, and
// reports whether more may come (false once the outbox is closed). The
// caller hands them to delivered once they are written, or not.
func (o *outbox) take(buf []queued, max int) ([]queued, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, size := 0, 0
	for n < len(o.queue) && size < max {
		size += len(o.queue[n].msg)
		n++
	}
	buf = append(buf, o.queue[:n]...)
	clear(o.queue[:n])
	if n == len(o.queue) {
		o.queue = o.queue[:0]
	} else {
		o.queue = o.queue[n:]
	}
	o.bytes -= size
	return buf, !o.closed
}

// close adds nothing more: the writer sends what is queued, then hangs up.
func (o *outbox) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	wake(o.ready)
}

// discard closes the outbox and throws away what waits in it, which
// frees its senders' budget.
func (o *outbox) discard() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	delivered(o.queue)
	o.queue, o.bytes = nil, 0
	wake(o.ready)
}

// delivered takes msgs off their senders' accounts, and clears msgs. A
// sender whose account falls under its budget is woken: see Server.read.
func delivered(msgs []queued) {
	for _, q := range msgs {
		if m := q.from; m != nil {
			n := int64(len(q.msg))
			if left := m.unsent.Add(-n); left < m.maxInFlight && left+n >= m.maxInFlight {
				wake(m.freed)
			}
		}
	}
	clear(msgs)
}

// wake puts a token in ch, a channel with room for one, unless it already
// holds one.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
