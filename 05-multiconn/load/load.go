// Package load is chapter 05's client as a load generator, the one behind
// multiconn-client's -repeat, -duration and -stream flags: it keeps an echo
// server busy with many connections, checks every echo byte for byte, and
// measures how fast the echoes come back. It is a tool for the chapter's
// measurements, not part of the lesson: the chapter's client is
// multiconn.Client.
//
// load.go runs the connections, result.go sums up a run, and histogram.go
// counts the round trips' latencies.
package load

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"example.com/sockets/05-multiconn/internal/wire"
)

// Generator is the client as a load generator: it keeps an echo server
// busy with many connections and measures how fast the echoes come back.
//
// In ping-pong mode (the default) every connection has one message of
// Size bytes in flight: it writes the message, reads its echo, checks it,
// and writes the next one. That measures messages per second and the time
// a round trip takes. In stream mode every connection writes without
// waiting while it reads the echo: that measures bytes per second.
type Generator struct {
	Conns    int           // connections, at least 1
	Size     int           // bytes per message, at least 1 (ping-pong); ignored by Stream
	Stream   bool          // one-way stream of bytes per connection, echoed back, instead of ping-pong messages
	Repeat   int           // messages per connection (ping-pong); 0: no count bound (then Duration must be > 0)
	Duration time.Duration // how long to run; 0: no time bound (then Repeat must be > 0 for ping-pong)
	Progress io.Writer     // if not nil, a progress line about every second: "3s: 612345 msgs, 204115 msgs/s"
}

// Bounds of a run.
const (
	// loadOpTimeout bounds every dial, Read and Write: a server that
	// stops answering ends the run with an error instead of hanging it.
	loadOpTimeout = 10 * time.Second

	// loadDialers is how many connections are dialed at once. Thousands
	// of simultaneous dials overflow the server's accept queue, and the
	// ones dropped are retried only a second later.
	loadDialers = 64

	// inlineWrite is the biggest ping-pong message written before its echo
	// is read, on the same goroutine. Any socket buffer holds 16 KB, so
	// the server can write the whole echo while we are still writing.
	// A bigger message is written on a goroutine of its own while the
	// echo is read, or both sides could end up blocked in Write.
	inlineWrite = 16 << 10

	// streamChunk is the size of each Write and Read in stream mode.
	streamChunk = 64 << 10

	// streamPeriod is the period of the bytes a stream sends: the byte
	// at offset i is i % streamPeriod. It is prime, so that it does not
	// line up with any buffer size: an echo that loses, repeats or
	// reorders a piece shows up as a wrong byte.
	streamPeriod = 251
)

// Run dials l.Conns connections to addr, then keeps them all busy until
// l.Repeat messages per connection or l.Duration, whichever comes first
// (in stream mode, for l.Duration), and returns what it measured. Every
// echo is checked, byte for byte. Each connection makes at least one round
// trip (or writes at least one chunk of its stream), however short
// l.Duration.
//
// Run stops at the first failure (a connection refused, a wrong echo, a
// server that hangs up or goes silent for 10 seconds) and returns an error
// naming the connection. If ctx ends first, it returns ctx's error. Either
// way it returns what it measured so far.
func (l *Generator) Run(ctx context.Context, addr string) (Result, error) {
	if err := l.check(); err != nil {
		return Result{}, err
	}
	conns, err := dialAll(ctx, addr, l.Conns)
	if err != nil {
		return Result{Conns: l.Conns}, err
	}
	defer closeAll(conns)

	// The first connection to fail cancels runCtx with its error as the
	// cause, and that stops the others.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	r := &loadRun{conns: conns, size: l.Size, repeat: l.Repeat}
	if l.Stream {
		r.pattern = streamPattern()
	}
	stop := context.AfterFunc(runCtx, r.stop)
	defer stop()

	// The ticker starts before the clock does, so its first tick is due
	// before a run of a second or more can end.
	var tick <-chan time.Time
	if l.Progress != nil {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	if l.Duration > 0 {
		r.end = start.Add(l.Duration)
	}
	var wg sync.WaitGroup
	for i, conn := range conns {
		wg.Go(func() {
			var err error
			if l.Stream {
				err = r.stream(conn)
			} else {
				err = r.pingPong(conn, i)
			}
			if err != nil {
				cancel(fmt.Errorf("load: connection %d: %w", i+1, err))
			}
		})
	}

	// Wait for the connections, with a progress line every second.
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for running := true; running; {
		select {
		case <-tick:
			r.progress(l.Progress, time.Since(start))
		case <-done:
			// A tick that came due as the last connection ended still
			// gets its line, so a run over a second always shows one.
			select {
			case <-tick:
				r.progress(l.Progress, time.Since(start))
			default:
			}
			running = false
		}
	}

	res := r.result(time.Since(start))
	if err := ctx.Err(); err != nil {
		return res, err
	}
	return res, context.Cause(runCtx) // nil unless a connection failed
}

// check validates l. The messages name the command's flags: they are
// what a user of multiconn-client gets wrong.
func (l *Generator) check() error {
	switch {
	case l.Conns < 1:
		return fmt.Errorf("load: %d connections: need at least 1", l.Conns)
	case l.Repeat < 0:
		return errors.New("load: -repeat must not be negative")
	case l.Duration < 0:
		return errors.New("load: -duration must not be negative")
	case l.Stream && l.Duration == 0:
		return errors.New("load: -stream needs a -duration")
	case l.Stream && l.Repeat > 0:
		return errors.New("load: -repeat counts ping-pong messages, and -stream sends none")
	case l.Stream:
		return nil
	case l.Size < 1:
		return errors.New("load: -size must be at least 1")
	case l.Repeat == 0 && l.Duration == 0:
		return errors.New("load: give -repeat or -duration (or both), or the run would never end")
	}
	return nil
}

// dialAll opens n connections to addr, loadDialers at a time. If one
// fails, it closes those it opened and returns that error.
func dialAll(ctx context.Context, addr string, n int) ([]net.Conn, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	conns := make([]net.Conn, n)
	var next atomic.Int64 // the next connection to dial, counting from 0
	var wg sync.WaitGroup
	for range min(n, loadDialers) {
		wg.Go(func() {
			d := net.Dialer{Timeout: loadOpTimeout}
			for i := int(next.Add(1) - 1); i < n && ctx.Err() == nil; i = int(next.Add(1) - 1) {
				conn, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					cancel(fmt.Errorf("load: connection %d: %w", i+1, err))
					return
				}
				conns[i] = conn // each dialer writes its own elements
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		closeAll(conns)
		return nil, err
	}
	return conns, nil
}

func closeAll(conns []net.Conn) {
	for _, conn := range conns {
		if conn != nil {
			conn.Close()
		}
	}
}

// loadRun is the state that a run's connections share.
type loadRun struct {
	conns   []net.Conn
	size    int       // bytes per message (ping-pong)
	repeat  int       // messages per connection; 0: no bound
	end     time.Time // when to stop; zero: no time bound
	pattern []byte    // what streams send (stream)

	stopped atomic.Bool  // set by stop: ctx ended or a connection failed
	latency histogram    // one entry per round trip (ping-pong)
	bytes   atomic.Int64 // bytes echoed and checked (stream)
}

// stop ends the run early: it wakes every blocked Read and Write with a
// deadline in the past.
//
// A connection's loop arms its own deadline before it looks at stopped,
// never after: either its deadline came before this one, which then holds,
// or it came after, and then the loop sees stopped set.
func (r *loadRun) stop() {
	r.stopped.Store(true)
	for _, conn := range r.conns {
		conn.SetDeadline(time.Unix(1, 0))
	}
}

// over reports whether a connection's loop must stop before its next
// message or chunk: the run was stopped, or its time is up. Every
// connection sends at least once (first is true only then), however short
// the run, so that there is always something to measure.
func (r *loadRun) over(now time.Time, first bool) bool {
	return r.stopped.Load() || (!first && !r.end.IsZero() && !now.Before(r.end))
}

// pingPong sends messages on conn, one at a time, each as soon as the
// previous one's echo is in and checked. id is the connection's index.
//
// The loop allocates nothing: one message buffer and one echo buffer serve
// every round trip. Each message starts with its number (when it has room
// for the 8 bytes), so that an echo of an earlier message does not pass
// for the current one; and every echo is compared whole.
func (r *loadRun) pingPong(conn net.Conn, id int) error {
	msg := make([]byte, r.size)
	for i := range msg {
		msg[i] = 'a' + byte((id+i)%26)
	}
	echo := make([]byte, r.size)
	written := make(chan error, 1) // for big messages: see inlineWrite
	var dl wire.Deadline
	for k := 0; r.repeat == 0 || k < r.repeat; k++ {
		dl.Arm(conn.SetDeadline, loadOpTimeout)
		start := time.Now()
		if r.over(start, k == 0) {
			return nil
		}
		if len(msg) >= 8 {
			binary.BigEndian.PutUint64(msg, uint64(k))
		}

		var err error
		if len(msg) <= inlineWrite {
			_, err = conn.Write(msg)
		} else {
			go func() {
				_, err := conn.Write(msg)
				written <- err
			}()
		}
		n, rerr := io.ReadFull(conn, echo)
		if len(msg) > inlineWrite {
			if rerr != nil {
				conn.SetDeadline(time.Unix(1, 0)) // the write cannot succeed now
			}
			err = <-written
		}
		switch {
		case rerr != nil:
			return r.readFailed(rerr, fmt.Sprintf("echoing %d of %d bytes of message %d", n, len(msg), k+1))
		case err != nil:
			return err
		}
		r.latency.record(time.Since(start))
		if i := wire.FirstDiff(echo, msg); i >= 0 {
			return fmt.Errorf("echo of message %d differs from what was sent at byte %d", k+1, i)
		}
	}
	return nil
}

// readFailed says why a Read failed, so far as the echo had come (what).
func (r *loadRun) readFailed(err error, what string) error {
	switch {
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("server closed the connection after %s", what)
	case errors.Is(err, os.ErrDeadlineExceeded) && !r.stopped.Load():
		return fmt.Errorf("no echo within %v, after %s", loadOpTimeout, what)
	}
	return err
}

// stream writes r.pattern to conn, over and over, until the run is over,
// and at the same time reads the echo and checks it. Then it half-closes
// conn, reads the rest of the echo until the server hangs up, and checks
// that it got back every byte it sent.
func (r *loadRun) stream(conn net.Conn) error {
	var sent atomic.Int64 // bytes written so far: the most the echo may have
	written := make(chan error, 1)
	go func() { written <- r.streamWrite(conn, &sent) }()

	got, err := r.streamRead(conn, &sent)
	if err != nil {
		conn.Close() // wakes the writer, if it is blocked
		<-written
		return err
	}
	if err := <-written; err != nil {
		return err
	}
	if got != sent.Load() {
		return fmt.Errorf("server closed the connection after echoing %d of %d bytes", got, sent.Load())
	}
	return nil
}

// streamWrite is stream's writer. It counts what it writes in sent.
func (r *loadRun) streamWrite(conn net.Conn, sent *atomic.Int64) error {
	var dl wire.Deadline
	for first := true; ; first = false {
		dl.Arm(conn.SetWriteDeadline, loadOpTimeout)
		if r.over(time.Now(), first) {
			break
		}
		// The byte at offset i of the stream is i % streamPeriod.
		off := int(sent.Load() % streamPeriod)
		// Count the chunk before writing it: part of its echo may be in
		// before Write returns, and streamRead must not take it for more
		// than was sent.
		sent.Add(streamChunk)
		n, err := conn.Write(r.pattern[off : off+streamChunk])
		if err != nil {
			sent.Add(int64(n - streamChunk)) // only n of them went
			return err
		}
	}
	// Half-close: "that is all", and the server's Read gets EOF once
	// it has read everything. It then hangs up, and streamRead gets EOF.
	return conn.(*net.TCPConn).CloseWrite()
}

// streamRead is stream's reader: it checks every byte of the echo against
// the pattern, until EOF.
func (r *loadRun) streamRead(conn net.Conn, sent *atomic.Int64) (int64, error) {
	buf := make([]byte, streamChunk)
	var got int64
	var dl wire.Deadline
	for {
		dl.Arm(conn.SetReadDeadline, loadOpTimeout)
		n, err := conn.Read(buf)
		if n > 0 {
			off := int(got % streamPeriod)
			if i := wire.FirstDiff(buf[:n], r.pattern[off:off+n]); i >= 0 {
				return got, fmt.Errorf("echo differs from what was sent at byte %d", got+int64(i))
			}
			got += int64(n)
			r.bytes.Add(int64(n))
			if got > sent.Load() {
				return got, fmt.Errorf("server sent %d bytes, more than the %d it was sent", got, sent.Load())
			}
		}
		if errors.Is(err, io.EOF) {
			return got, nil
		}
		if err != nil {
			return got, r.readFailed(err, fmt.Sprintf("echoing %d bytes", got))
		}
	}
}

// streamPattern returns the bytes a stream writes, long enough that any
// chunk of streamChunk bytes starting at an offset below streamPeriod is
// a slice of it: pattern[i] is i % streamPeriod.
func streamPattern() []byte {
	p := make([]byte, streamChunk+streamPeriod)
	for i := range p {
		p[i] = byte(i % streamPeriod)
	}
	return p
}

// progress writes a line about the run so far, elapsed after its start.
func (r *loadRun) progress(w io.Writer, elapsed time.Duration) {
	if r.pattern != nil { // a stream
		n := r.bytes.Load()
		fmt.Fprintf(w, "%v: %s, %.1f MB/s\n", elapsed.Round(time.Second), byteCount(n), perSecond(float64(n), elapsed)/1e6)
		return
	}
	n := r.latency.count()
	fmt.Fprintf(w, "%v: %d msgs, %.0f msgs/s\n", elapsed.Round(time.Second), n, perSecond(float64(n), elapsed))
}

// result is the run's Result, elapsed after its start.
func (r *loadRun) result(elapsed time.Duration) Result {
	res := Result{Conns: len(r.conns), Elapsed: elapsed}
	if r.pattern != nil {
		res.Bytes = r.bytes.Load()
		return res
	}
	res.Msgs = r.latency.count()
	res.Bytes = res.Msgs * int64(r.size)
	res.P50 = r.latency.percentile(50)
	res.P90 = r.latency.percentile(90)
	res.P99 = r.latency.percentile(99)
	return res
}
