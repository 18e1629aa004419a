package multiconn_test

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/testutil"
)

// BenchmarkPingPong has each of 1 or 100 connections send a 64-byte
// message and wait for its echo, over and over: the echo path, with the
// client in the same process. (The figures to compare with the C server
// come from the load generator; see the README.)
//
//	go test -run '^$' -bench PingPong -benchtime 2s
func BenchmarkPingPong(b *testing.B) {
	for _, conns := range []int{1, 100} {
		b.Run(fmt.Sprintf("conns=%d", conns), func(b *testing.B) {
			r := testutil.StartServer(b, &multiconn.Server{Quiet: true}, multiconn.ErrServerClosed)
			cs := make([]*net.TCPConn, conns)
			for i := range cs {
				cs[i] = testutil.Dial(b, r.Addr)
			}
			var next sync.Mutex // hands out the b.N messages
			left := b.N
			take := func() bool {
				next.Lock()
				defer next.Unlock()
				left--
				return left >= 0
			}
			b.ResetTimer()
			var wg sync.WaitGroup
			for _, c := range cs {
				wg.Go(func() {
					msg, echo := make([]byte, 64), make([]byte, 64)
					for take() {
						if _, err := c.Write(msg); err != nil {
							b.Error(err)
							return
						}
						if _, err := io.ReadFull(c, echo); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}

// BenchmarkStream sends 4 MiB through one connection per operation, writing
// and reading at once. (It discards the echo as it reads, rather than use
// the tests' echo helper, which keeps it all and would measure that.)
//
//	go test -run '^$' -bench Stream -benchtime 50x
func BenchmarkStream(b *testing.B) {
	r := testutil.StartServer(b, &multiconn.Server{Quiet: true}, multiconn.ErrServerClosed)
	msg := randomBytes(4 << 20)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		c := testutil.Dial(b, r.Addr)
		sent := make(chan error, 1)
		go func() {
			_, err := c.Write(msg)
			if err == nil {
				err = c.CloseWrite()
			}
			sent <- err
		}()
		n, err := io.Copy(io.Discard, c)
		if err != nil || n != int64(len(msg)) {
			b.Fatalf("echoed %d of %d bytes: %v", n, len(msg), err)
		}
		if err := <-sent; err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

var idleConns = flag.Int("idle-conns", 1000, "connections held open by BenchmarkIdle")

// BenchmarkIdle starts multiconn-server as a process of its own, opens
// -idle-conns connections to it, makes one round trip on each so that the
// server is serving every one of them, and reports how much the server's
// resident memory (VmRSS) grew, and how many descriptors it holds. Linux
// only: it reads /proc.
//
//	go test -run '^$' -bench Idle -benchtime 1x -idle-conns 10000
func BenchmarkIdle(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads /proc/PID/status, which only Linux has")
	}
	bin := testutil.Build(b, "./cmd/multiconn-server")
	for b.Loop() {
		srv := testutil.Start(b, exec.Command(bin, "-q", "-addr", "127.0.0.1:0"))
		addr := srv.WaitOutput(`listening on (\S+)`)[1]
		pid := srv.Pid()
		before := procStatus(b, pid, "VmRSS")

		conns := make(chan net.Conn, *idleConns)
		var wg sync.WaitGroup
		for w := range 16 {
			wg.Go(func() {
				for i := w; i < *idleConns; i += 16 {
					c, err := net.DialTimeout("tcp", addr, testutil.Timeout)
					if err != nil {
						b.Error(err)
						return
					}
					conns <- c
					c.SetDeadline(time.Now().Add(testutil.Timeout))
					if _, err := c.Write([]byte{'x'}); err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		close(conns)
		after := procStatus(b, pid, "VmRSS")
		fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(after-before)/1024, "MiB-growth")
		b.ReportMetric(float64(after-before)*1024/float64(*idleConns), "B/conn")
		b.ReportMetric(float64(len(fds)), "fds")
		for c := range conns {
			c.Close()
		}
		srv.Interrupt()
		srv.Wait()
	}
}

// procStatus returns a field of /proc/PID/status, in kB.
func procStatus(b *testing.B, pid int, field string) int64 {
	b.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}
