//go:build unix

package poll

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/internal/protocol"
)

// Supported reports whether Server works on this system.
const Supported = true

// control is what Serve and Close share.
type control struct {
	mu      sync.Mutex
	served  bool          // Serve was called
	closed  bool          // Close was called
	running bool          // the loop runs, and wakeW is open
	wakeW   int           // the write end of the self-pipe; see Close
	done    chan struct{} // closed once Serve has closed every descriptor
}

// Serve runs the room on ln, which must be a *net.TCPListener, on the
// calling goroutine; it starts no other. It returns chat.ErrServerClosed
// after Close, or the error that stopped the loop. Before it returns, Serve
// closes ln and every connection. A second call returns an error.
func (s *Server) Serve(ln net.Listener) error {
	tl, ok := ln.(*net.TCPListener)
	if !ok {
		ln.Close()
		return fmt.Errorf("chat: the poll server needs a *net.TCPListener, not %T", ln)
	}
	wakeR, err := s.start()
	if err != nil {
		ln.Close()
		return err
	}
	l := &loop{
		s:           s,
		wakeR:       wakeR,
		maxLine:     protocol.OrDefault(s.MaxLineLength, chat.DefaultMaxLineLength),
		timeout:     protocol.OrDefault(s.Timeout, chat.DefaultTimeout),
		maxPending:  protocol.OrDefault(s.MaxPending, chat.DefaultMaxPending),
		maxInFlight: protocol.OrDefault(s.MaxInFlight, chat.DefaultMaxInFlight),
		clients:     make(map[int]*client),
		buf:         make([]byte, 4<<10),
		wbuf:        make([]byte, 0, 64<<10),
	}
	defer func() {
		l.closeAll()
		ln.Close()
		s.stop(wakeR) // lets Close return
	}()

	// File returns a duplicate of the listener's descriptor, for us to
	// poll; we never call ln.Accept. Fd puts it in blocking mode: undo
	// that. (Both descriptors share that flag; ln only gets closed.)
	if l.lnFile, err = tl.File(); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	l.lnFd = int(l.lnFile.Fd())
	if err := unix.SetNonblock(l.lnFd, true); err != nil {
		return fmt.Errorf("chat: %w", err)
	}
	s.logf("listening on %s", ln.Addr())
	return l.run()
}

// Close stops Serve and returns once Serve has closed every descriptor.
// Clients are cut off at once. Close may be called more than once, from any
// goroutine.
func (s *Server) Close() error {
	s.mu.Lock()
	if !s.closed && s.running {
		// The loop sleeps in poll, which only a descriptor can wake. So
		// it polls the read end of a pipe too, and one byte written to
		// the other end makes it readable: the "self-pipe trick".
		unix.Write(s.wakeW, []byte{0})
	}
	s.closed = true
	done := s.done
	s.mu.Unlock()
	if done != nil {
		<-done
	}
	return nil
}

// start makes the self-pipe and returns its read end.
func (s *Server) start() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return -1, chat.ErrServerClosed
	}
	if s.served {
		return -1, errors.New("chat: poll.Server.Serve called twice")
	}
	s.served = true
	var p [2]int
	syscall.ForkLock.RLock() // see accept
	err := unix.Pipe(p[:])
	if err == nil {
		unix.CloseOnExec(p[0])
		unix.CloseOnExec(p[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, fmt.Errorf("chat: pipe: %w", err)
	}
	unix.SetNonblock(p[0], true)
	unix.SetNonblock(p[1], true)
	s.wakeW, s.running, s.done = p[1], true, make(chan struct{})
	return p[0], nil
}

// stop closes the self-pipe, under s.mu so that Close cannot write to it
// once it is closed (its number may already belong to another file).
func (s *Server) stop(wakeR int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	unix.Close(wakeR)
	unix.Close(s.wakeW)
	s.running = false
	close(s.done)
}

// How a client that leaves without error ends: see leave.
const (
	lingerTime  = time.Second
	lingerBytes = 1 << 20
)

// What a client is doing.
const (
	inRoom  = iota
	leaving // out of the room, its last messages on their way
	closed
)

// client is one connection. A goroutine would keep this state in local
// variables; the loop serves every client in turn, so it lives here.
type client struct {
	fd    int
	addr  string // as net.Conn's RemoteAddr().String() would say it
	state int
	eof   bool      // the client has closed its side
	in    []byte    // received, and not a whole line yet (or held)
	held  bool      // in holds whole lines, waiting for unsent to fall
	out   []message // messages not fully written: out[0].msg[:off] is
	off   int

	// The accounts of chat's backpressure.go: pending is the bytes of out
	// still to write, unsent the bytes of what this client said that wait
	// in anybody's out.
	pending int
	unsent  int

	// A write is at most wbuf's 64 KiB. writeStart is when the one in
	// progress began (when out became non-empty, or the one before
	// ended), and writeLeft what it still has to write; 0: none began.
	writeStart  time.Time
	writeLeft   int
	lingerUntil time.Time // when a leaving client gets closed anyway
	discarded   int       // bytes read and thrown away while leaving
}

// message is what waits for one client: msg is shared by all its
// recipients, from is who said it (nil: the room's own notice).
type message struct {
	msg  []byte
	from *client
}

// loop is the state of one Serve.
type loop struct {
	s           *Server
	maxLine     int
	timeout     time.Duration
	maxPending  int
	maxInFlight int

	wakeR   int      // the read end of the self-pipe
	lnFile  *os.File // owns lnFd, our duplicate of the listener
	lnFd    int
	clients map[int]*client // by descriptor
	now     time.Time       // when poll last returned
	paused  time.Time       // accept nothing before this (EMFILE)
	buf     []byte          // for every read
	wbuf    []byte          // for every write; see writeTo
	news    [][]byte        // "Client ADDR is offline" lines, for tellNews

	fds    []unix.PollFd // what poll watches: wakeR, lnFd, then clients
	polled []*client     // polled[i] is the client of fds[i+2]
}

// run is the event loop. Where Python calls select.select(inputs, outputs,
// [], timeout), it lists every descriptor with the events it waits for,
// POLLIN (readable) or POLLOUT (writable), and poll says which happened.
// Every socket is non-blocking: a read or write that would have to wait
// fails with EAGAIN (also called EWOULDBLOCK) instead, so no client can
// stall the loop, and through it everybody else.
func (l *loop) run() error {
	for {
		l.resume()
		l.fds, l.polled = l.fds[:0], l.polled[:0]
		l.fds = append(l.fds, unix.PollFd{Fd: int32(l.wakeR), Events: unix.POLLIN})
		lnFd := int32(l.lnFd)
		if l.now.Before(l.paused) {
			lnFd = -1 // poll skips a negative descriptor
		}
		l.fds = append(l.fds, unix.PollFd{Fd: lnFd, Events: unix.POLLIN})
		for _, c := range l.clients {
			// Ask for POLLIN from a client in the room while what it
			// said leaves room in its budget (backpressure), and from
			// a leaving one waiting for its EOF. Ask for POLLOUT only
			// when there is something to write: an idle socket is
			// always writable, and poll would return at once, over
			// and over.
			p := unix.PollFd{Fd: int32(c.fd)}
			if c.state == inRoom && l.mayRead(c) || c.state == leaving && len(c.out) == 0 {
				p.Events = unix.POLLIN
			}
			if len(c.out) > 0 {
				p.Events |= unix.POLLOUT
			}
			l.fds = append(l.fds, p)
			l.polled = append(l.polled, c)
		}

		_, err := unix.Poll(l.fds, l.pollTimeout())
		if err == unix.EINTR {
			continue // a signal interrupted the wait: wait again
		}
		if err != nil {
			return fmt.Errorf("poll: %w", err)
		}
		l.now = time.Now()
		if l.fds[0].Revents != 0 {
			return chat.ErrServerClosed // Close wrote to the self-pipe
		}
		for i, c := range l.polled {
			l.handle(c, l.fds[i+2])
		}
		if l.fds[1].Revents != 0 {
			if err := l.accept(); err != nil {
				return err
			}
		}
		l.checkDeadlines()
		l.tellNews()
	}
}

// pollTimeout is how long poll may wait, in milliseconds: until the
// nearest deadline, or for ever (-1) if there is none.
func (l *loop) pollTimeout() int {
	var next time.Time
	if l.now.Before(l.paused) {
		next = l.paused
	}
	for _, c := range l.clients {
		t := c.lingerUntil
		if len(c.out) > 0 {
			t = c.writeStart.Add(l.timeout)
		}
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	if next.IsZero() {
		return -1
	}
	// Round up: waking a little before the deadline would find nothing
	// due, and poll again and again with timeout 0 until it is.
	ms := (time.Until(next) + time.Millisecond - 1) / time.Millisecond
	return int(min(max(ms, 0), math.MaxInt32))
}

// handle does what poll says c is ready for: read first, then write, as the
// tutorial's loop does. POLLHUP (hung up) and POLLERR come unasked; the
// read or write that follows returns the EOF or the error.
func (l *loop) handle(c *client, p unix.PollFd) {
	if c.state == closed {
		return // dropped earlier in this round
	}
	if p.Revents&unix.POLLNVAL != 0 {
		// c.fd is not open: a bug, but no reason to panic. Do not
		// close it: its number may belong to another file by now.
		delete(l.clients, c.fd)
		c.fd = -1
		l.drop(c, errors.New("invalid descriptor"))
		return
	}
	readable := p.Revents&(unix.POLLIN|unix.POLLHUP|unix.POLLERR) != 0
	writable := p.Revents&(unix.POLLOUT|unix.POLLHUP|unix.POLLERR) != 0
	switch {
	case readable && c.state == inRoom && !l.mayRead(c) && len(c.out) == 0:
		// Poll reports a hangup or an error even when it is not
		// asked for POLLIN. Not reading c now, and with nothing to
		// write that would fail, drop c, or poll would say so again
		// at once, over and over.
		l.drop(c, fmt.Errorf("read: %w", sockError(c.fd)))
	case readable && c.state == inRoom:
		l.readFrom(c)
	case readable && len(c.out) == 0: // leaving, waiting for its EOF
		l.discard(c)
	}
	if writable && len(c.out) > 0 && c.state != closed {
		l.writeTo(c)
	}
}

// accept takes every connection waiting in the listener's backlog.
func (l *loop) accept() error {
	for {
		// A fork (os/exec) between accept and CloseOnExec would leak
		// the socket into the child; Go forks holding ForkLock. Linux
		// has accept4 to do both at once, but macOS does not.
		syscall.ForkLock.RLock()
		fd, sa, err := unix.Accept(l.lnFd)
		if err == nil {
			unix.CloseOnExec(fd)
		}
		syscall.ForkLock.RUnlock()
		switch err {
		case nil:
		case unix.EAGAIN:
			return nil // the backlog is empty
		case unix.EINTR:
			continue
		case unix.ECONNABORTED: // the client gave up while waiting
			l.s.logf("accept: %v", err)
			continue
		case unix.EMFILE, unix.ENFILE:
			// Out of descriptors. The connection stays in the backlog
			// and the listener stays readable: polling it now would
			// spin at 100% CPU. Leave it out until a client's
			// descriptor is closed, or for a second.
			l.s.logf("accept: %v", err)
			l.paused = l.now.Add(time.Second)
			return nil
		default:
			return fmt.Errorf("accept: %w", err)
		}
		if err := unix.SetNonblock(fd, true); err != nil {
			unix.Close(fd)
			l.s.logf("accept: %v", err)
			continue
		}
		// Send each write at once, as net does for a TCPConn: with
		// Nagle's algorithm a small write waits for the ACK of the one
		// before, which the client may delay by up to 40 ms.
		unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
		c := &client{fd: fd, addr: sockaddrString(sa)}
		l.clients[fd] = c
		l.s.logf("client %s connected", c.addr)
	}
}

// readFrom reads what c has sent and handles every whole line in it. It
// reads until EAGAIN, but at most 16 times: poll will report a client that
// sends faster than that again, after the others had their turn. It stops
// when c's budget is used up: see mayRead.
func (l *loop) readFrom(c *client) {
	for range 16 {
		if !l.mayRead(c) {
			return
		}
		n, err := unix.Read(c.fd, l.buf)
		switch {
		case err == unix.EAGAIN:
			return // nothing more for now
		case err == unix.EINTR:
			continue
		case err != nil:
			l.drop(c, fmt.Errorf("read: %w", err))
			return
		case n == 0: // EOF: the client has closed its side
			if len(c.in) > 0 { // a last line without "\n" counts
				l.said(c, protocol.TrimLine(c.in))
			}
			c.eof = true
			l.leave(c, nil)
			return
		}
		c.in = append(c.in, l.buf[:n]...)
		l.lines(c)
		if c.state != inRoom {
			return
		}
	}
}

// mayRead reports whether the room takes more from c: whether less than
// maxInFlight bytes of what c said wait to be written, and no line of c's
// is held. Otherwise poll is not asked about c's input, which waits in the
// kernel's buffers; when they are full, TCP makes the client wait.
func (l *loop) mayRead(c *client) bool {
	return !c.held && c.unsent < l.maxInFlight
}

// resume handles the lines held for clients whose budget has room again.
func (l *loop) resume() {
	for _, c := range l.clients {
		if c.held && c.state == inRoom && c.unsent < l.maxInFlight {
			l.lines(c)
		}
	}
}

// lines handles every whole line in c.in, while c's budget lasts, and keeps
// the rest. A line and its "\n" must fit in maxLine bytes, as with a
// bufio.Scanner whose Buffer is maxLine: c is kicked out for a longer one.
func (l *loop) lines(c *client) {
	rest := c.in
	c.held = false
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if c.unsent >= l.maxInFlight {
			c.held = true // until resume
			break
		}
		if i+1 > l.maxLine {
			l.kick(c)
			return
		}
		l.said(c, protocol.TrimLine(rest[:i]))
		if c.state != inRoom {
			return // said dropped c: it was not reading its OKs
		}
		rest = rest[i+1:]
	}
	if !c.held && len(rest) >= l.maxLine {
		l.kick(c)
		return
	}
	c.in = append(c.in[:0], rest...) // the partial line moves to the front
}

// said tells the room that c said line: OK to c, the line to the others.
func (l *loop) said(c *client, line []byte) {
	l.queue(c, protocol.OKLine(line), c)
	if c.state == inRoom {
		l.broadcast(c, protocol.SaidLine(c.addr, line))
	}
}

// broadcast queues msg, said by from, for everybody in the room but from
// (nil: for everybody, from the room).
func (l *loop) broadcast(from *client, msg []byte) {
	for _, c := range l.clients {
		if c != from {
			l.queue(c, msg, from)
		}
	}
}

// queue adds msg, said by from, to c's outbox, for the loop to write once c
// is writable. If more than maxPending bytes would wait for c, c is not
// reading, and the room does not keep messages for it without limit: it is
// dropped.
func (l *loop) queue(c *client, msg []byte, from *client) {
	if c.state != inRoom {
		return
	}
	if c.pending+len(msg) > l.maxPending {
		l.drop(c, protocol.NotReading{Max: l.maxPending})
		return
	}
	c.add(msg, from, l.now)
}

// add puts msg at the end of c's outbox, and on from's account.
func (c *client) add(msg []byte, from *client, now time.Time) {
	if len(c.out) == 0 {
		c.writeStart, c.writeLeft = now, 0 // the Timeout starts now
	}
	c.out = append(c.out, message{msg, from})
	c.pending += len(msg)
	if from != nil {
		from.unsent += len(msg)
	}
}

// writeTo writes as much of c's outbox as the kernel takes right now. The
// messages waiting are copied into one buffer, up to 64 KiB, and go out in
// one write: one system call for many messages, not one each.
func (l *loop) writeTo(c *client) {
	for len(c.out) > 0 {
		batch := append(l.wbuf[:0], c.out[0].msg[c.off:]...)
		for _, q := range c.out[1:] {
			if len(batch)+len(q.msg) > cap(l.wbuf) {
				break
			}
			batch = append(batch, q.msg...)
		}
		if c.writeLeft == 0 {
			c.writeLeft = len(batch) // a write begins
		}
		n, err := unix.Write(c.fd, batch)
		if n > 0 {
			c.written(n)
			if c.writeLeft -= n; c.writeLeft <= 0 {
				c.writeStart, c.writeLeft = l.now, 0 // and ends
			}
		}
		switch {
		case err == unix.EAGAIN:
			return // the send buffer is full; wait for POLLOUT
		case err == unix.EINTR:
			continue
		case err != nil:
			l.drop(c, fmt.Errorf("write: %w", err))
			return
		case n < len(batch):
			return // only part was taken: the buffer is full
		}
	}
	if c.state == leaving {
		l.hangUp(c)
	}
}

// written takes the first n bytes of the outbox off it, and each message
// written in full off its sender's account.
func (c *client) written(n int) {
	c.pending -= n
	for n > 0 {
		q := c.out[0]
		left := len(q.msg) - c.off
		if n < left {
			c.off += n
			return
		}
		n -= left
		if q.from != nil {
			q.from.unsent -= len(q.msg)
		}
		c.out[0] = message{}
		c.out, c.off = c.out[1:], 0
	}
}

// kick puts c out of the room for a line that is too long.
func (l *loop) kick(c *client) {
	c.add(protocol.TooLongLine(l.maxLine), nil, l.now) // even past maxPending
	l.leave(c, protocol.LineTooLong{Max: l.maxLine})
}

// leave takes c out of the room, tells the others, and lets c go
// gracefully: what is queued for it is still sent, then hangUp ends it.
func (l *loop) leave(c *client, reason error) {
	if c.state != inRoom {
		return
	}
	c.state, c.in = leaving, nil
	l.announce(c, reason)
	if len(c.out) == 0 {
		l.hangUp(c)
	}
}

// hangUp ends a leaving client once its output is sent. If it has not
// closed its side yet, it may still be sending, and closing a socket with
// unread input makes the kernel send a reset (RST), which can destroy what
// the client has not read yet. So send FIN with shutdown, then read and
// throw away what still comes until EOF, for at most lingerTime or
// lingerBytes.
func (l *loop) hangUp(c *client) {
	if c.eof || unix.Shutdown(c.fd, unix.SHUT_WR) != nil {
		l.close(c)
		return
	}
	c.lingerUntil = l.now.Add(lingerTime)
}

// discard reads and throws away what a leaving client still sends.
func (l *loop) discard(c *client) {
	for range 16 {
		n, err := unix.Read(c.fd, l.buf)
		if err == unix.EAGAIN || err == unix.EINTR {
			return // poll will say when there is more
		}
		if err != nil || n == 0 || c.discarded+n >= lingerBytes {
			l.close(c) // an error, EOF, or enough
			return
		}
		c.discarded += n
	}
}

// drop closes c at once, with a reset, and if it was in the room, tells
// the others. SO_LINGER with a time of 0 makes close send RST and throw
// away what the kernel still holds for c, rather than queue FIN behind it:
// see reset in chat's linger.go.
func (l *loop) drop(c *client, reason error) {
	wasInRoom := c.state == inRoom
	if c.fd >= 0 && c.state != closed {
		unix.SetsockoptLinger(c.fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
	}
	l.close(c)
	if wasInRoom {
		l.announce(c, reason)
	}
}

// announce logs that c left for reason (nil: it hung up). The room hears
// of it at the end of the round, from tellNews.
func (l *loop) announce(c *client, reason error) {
	if reason == nil {
		l.s.logf("client %s is offline", c.addr)
	} else {
		l.s.logf("client %s is offline: %v", c.addr, reason)
	}
	l.news = append(l.news, protocol.OfflineLine(c.addr))
}

// tellNews tells the room who left in this round: when many leave at once,
// the room hears of them together, not one by one. That may put a client
// over maxPending and drop it in turn, which ends: each client leaves only
// once.
func (l *loop) tellNews() {
	for len(l.news) > 0 {
		news := l.news
		l.news = nil
		l.broadcast(nil, bytes.Join(news, nil)) // one message, however many lines
	}
}

// close closes c's descriptor and forgets c. What was queued for c is
// taken off its senders' accounts.
func (l *loop) close(c *client) {
	if c.state == closed {
		return
	}
	unix.Close(c.fd)
	delete(l.clients, c.fd)
	for _, q := range c.out {
		if q.from != nil {
			q.from.unsent -= len(q.msg)
		}
	}
	c.state, c.in, c.out, c.pending = closed, nil, nil, 0
	l.paused = time.Time{} // a descriptor is free: accept again
}

// sockError returns the error pending on socket fd, as a read would.
func sockError(fd int) error {
	n, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	switch {
	case err != nil:
		return err
	case n != 0:
		return unix.Errno(n)
	}
	return errors.New("connection closed")
}

// checkDeadlines drops the clients whose write took longer than Timeout,
// and closes the leaving ones whose time is up.
func (l *loop) checkDeadlines() {
	for _, c := range l.clients {
		switch {
		case len(c.out) > 0 && !l.now.Before(c.writeStart.Add(l.timeout)):
			l.drop(c, fmt.Errorf("write: %w", os.ErrDeadlineExceeded))
		case len(c.out) == 0 && c.state == leaving && !l.now.Before(c.lingerUntil):
			l.close(c)
		}
	}
}

// closeAll closes every descriptor of the loop but the self-pipe's.
func (l *loop) closeAll() {
	for _, c := range l.clients {
		l.close(c)
	}
	if l.lnFile != nil {
		l.lnFile.Close()
	}
}

// sockaddrString formats sa as net formats a TCPAddr: "127.0.0.1:55221",
// "[::1]:55221". Like net, it shows an IPv4-mapped IPv6 address (an IPv4
// client of a dual-stack listener) as plain IPv4, and a zone by name.
func sockaddrString(sa unix.Sockaddr) string {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String()
	case *unix.SockaddrInet6:
		ip := netip.AddrFrom16(sa.Addr).Unmap()
		if sa.ZoneId != 0 && ip.Is6() {
			zone := strconv.Itoa(int(sa.ZoneId))
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				zone = ifi.Name
			}
			ip = ip.WithZone(zone)
		}
		return netip.AddrPortFrom(ip, uint16(sa.Port)).String()
	}
	return "unknown address"
}
