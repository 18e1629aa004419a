package chat_test

import (
	"fmt"
	"log"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"

	chat "example.com/sockets/04-select"
	"example.com/sockets/04-select/internal/testutil"
)

// BenchmarkBroadcast has one member say lines, 16 at a time, to a room of
// 10 or 100, and waits until everybody has heard them. lines/s counts
// lines delivered: one line said to a room of 100 is 99 lines heard and
// one OK.
//
//	go test -run '^$' -bench Broadcast -benchtime 2s
func BenchmarkBroadcast(b *testing.B) {
	const window = 16 // lines in flight
	for _, sv := range servers {
		for _, size := range []int{10, 100} {
			b.Run(fmt.Sprintf("%s/members=%d", sv.name, size), func(b *testing.B) {
				skipUnbuilt(b, sv)
				addr := testutil.StartServer(b, sv.new(config{}), chat.ErrServerClosed).Addr
				var room []*member
				for range size {
					room = append(room, join(b, addr, room...))
				}
				speaker, listeners := room[0], room[1:]
				lines := []byte(strings.Repeat("a line of chat, about sixty bytes long, as people type\n", window))
				b.ResetTimer()
				for b.Loop() {
					if _, err := speaker.conn.Write(lines); err != nil {
						b.Fatal(err)
					}
					for _, m := range append(listeners, speaker) {
						for range window {
							if _, err := m.r.ReadSlice('\n'); err != nil {
								b.Fatal(err)
							}
						}
					}
				}
				b.ReportMetric(float64(b.N*window*size)/b.Elapsed().Seconds(), "lines/s")
			})
		}
	}
}

// BenchmarkIdleMemory opens 1,000 connections that say nothing and reports
// how much more memory the process uses per connection once the server has
// taken them all in: Go heap and goroutine stacks, both ends of each
// connection counted (the clients run in the same process). "hold" is the
// floor: a server that accepts each net.Conn and keeps it, nothing more.
//
//	go test -run '^$' -bench IdleMemory -benchtime 1x
func BenchmarkIdleMemory(b *testing.B) {
	const conns = 1000
	hold := serverKind{"hold", func(c config) testutil.Server { return &holder{log: c.log} }}
	for _, v := range append([]serverKind{hold}, servers...) {
		b.Run(v.name, func(b *testing.B) {
			skipUnbuilt(b, v)
			for b.Loop() {
				joined := &lineCounter{match: "connected", want: conns, done: make(chan struct{})}
				addr := testutil.StartServer(b, v.new(config{log: log.New(joined, "", 0)}), chat.ErrServerClosed).Addr
				before := inUse()
				clients := make([]net.Conn, 0, conns)
				for range conns {
					c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
					if err != nil {
						b.Fatal(err)
					}
					clients = append(clients, c)
				}
				testutil.Receive(b, joined.done, "the server to take every connection")
				after := inUse()
				b.ReportMetric(float64(after-before)/conns, "B/conn")
				for _, c := range clients {
					c.Close()
				}
			}
		})
	}
}

// inUse returns the bytes of heap and goroutine stacks in use, after a
// garbage collection.
func inUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse + ms.StackInuse
}

// lineCounter is a log destination that closes done once want lines
// containing match have been written to it.
type lineCounter struct {
	match string
	want  int
	done  chan struct{}

	mu sync.Mutex
	n  int
}

func (w *lineCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if strings.Contains(string(p), w.match) {
		w.n++
		if w.n == w.want {
			close(w.done)
		}
	}
	return len(p), nil
}

// holder accepts connections and keeps them open, doing nothing else.
type holder struct {
	log *log.Logger

	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
	closed bool
}

func (h *holder) Serve(ln net.Listener) error {
	h.mu.Lock()
	h.ln = ln
	h.mu.Unlock()
	for {
		c, err := ln.Accept()
		if err != nil {
			h.mu.Lock()
			defer h.mu.Unlock()
			if h.closed {
				return chat.ErrServerClosed
			}
			return err
		}
		h.mu.Lock()
		h.conns = append(h.conns, c)
		h.mu.Unlock()
		h.log.Printf("client %s connected", c.RemoteAddr())
	}
}

func (h *holder) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	if h.ln != nil {
		h.ln.Close()
	}
	for _, c := range h.conns {
		c.Close()
	}
	return nil
}
