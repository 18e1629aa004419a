package load_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	multiconn "example.com/sockets/05-multiconn"
	"example.com/sockets/05-multiconn/internal/fake"
	"example.com/sockets/05-multiconn/internal/testutil"
	"example.com/sockets/05-multiconn/load"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// The durations in these tests bound a run; none of them is a claim about
// speed. What is checked is that every echo was counted and checked.

func TestLoadPingPong(t *testing.T) {
	tests := []struct {
		name string
		gen  load.Generator
	}{
		{"4 conns, 64 bytes", load.Generator{Conns: 4, Size: 64, Repeat: 100}},
		{"1 byte: no room for the message number", load.Generator{Conns: 1, Size: 1, Repeat: 50}},
		{"7 bytes", load.Generator{Conns: 3, Size: 7, Repeat: 20}},
		{"100 kB", load.Generator{Conns: 2, Size: 100_000, Repeat: 5}},
		// More than the sockets' buffers hold: it must be written while
		// its echo is read, or both sides end up blocked in Write.
		{"32 MiB", load.Generator{Conns: 1, Size: 32 << 20, Repeat: 2}},
		{"-repeat comes before -duration", load.Generator{Conns: 2, Size: 64, Repeat: 30, Duration: time.Hour}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			srv := &multiconn.Server{}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)

			res, err := tt.gen.Run(context.Background(), r.Addr)
			require.NoError(t, err)
			msgs := int64(tt.gen.Conns * tt.gen.Repeat)
			assert.Equal(t, tt.gen.Conns, res.Conns)
			assert.Equal(t, msgs, res.Msgs)
			assert.Equal(t, msgs*int64(tt.gen.Size), res.Bytes)
			assert.Equal(t, res.Bytes, srv.Stats().BytesIn, "the server got every byte")
			assert.Positive(t, res.Elapsed)
			assert.Positive(t, res.P50)
			assert.LessOrEqual(t, res.P50, res.P90)
			assert.LessOrEqual(t, res.P90, res.P99)
			assert.Contains(t, res.String(), "-byte messages: ")
		})
	}
}

// With only -duration, a ping-pong run stops when the time is up, and
// counts every message it completed.
func TestLoadPingPongForADuration(t *testing.T) {
	srv := &multiconn.Server{}
	r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
	l := &load.Generator{Conns: 2, Size: 64, Duration: 100 * time.Millisecond}
	res, err := l.Run(context.Background(), r.Addr)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, res.Msgs, int64(2), "each connection makes at least one round trip")
	assert.Equal(t, res.Msgs*64, res.Bytes)
	assert.Equal(t, res.Bytes, srv.Stats().BytesIn)
}

func TestLoadStream(t *testing.T) {
	for _, conns := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d connections", conns), func(t *testing.T) {
			testutil.CheckLeaks(t)
			srv := &multiconn.Server{}
			r := testutil.StartServer(t, srv, multiconn.ErrServerClosed)
			l := &load.Generator{Conns: conns, Stream: true, Duration: 100 * time.Millisecond}
			res, err := l.Run(context.Background(), r.Addr)
			require.NoError(t, err)
			assert.Equal(t, conns, res.Conns)
			assert.Positive(t, res.Bytes, "each connection writes at least one chunk")
			// Run checked that it got back every byte it sent, and the
			// server got every byte.
			assert.Equal(t, res.Bytes, srv.Stats().BytesIn)
			assert.Zero(t, res.Msgs)
			assert.Zero(t, res.P50)
			assert.Contains(t, res.String(), ", stream: ")
		})
	}
}

// echoMessages returns a fake server's serve function that reads messages
// of size bytes and echoes each, after passing it to change with its
// number k (from 1). change may alter the message, or return false to
// have the server hang up instead of echoing.
func echoMessages(size int, change func(k int, msg []byte) bool) func(c net.Conn) {
	return func(c net.Conn) {
		msg := make([]byte, size)
		for k := 1; ; k++ {
			if _, err := io.ReadFull(c, msg); err != nil {
				return
			}
			if !change(k, msg) {
				return
			}
			if _, err := c.Write(msg); err != nil {
				return
			}
		}
	}
}

func TestLoadReportsWhatWentWrong(t *testing.T) {
	tests := []struct {
		name  string
		gen   load.Generator
		serve func(c net.Conn)
		want  string
	}{
		{
			name: "a byte changed",
			gen:  load.Generator{Conns: 1, Size: 64, Repeat: 10},
			serve: echoMessages(64, func(k int, msg []byte) bool {
				if k == 3 {
					msg[10] ^= 1
				}
				return true
			}),
			want: "load: connection 1: echo of message 3 differs from what was sent at byte 10",
		},
		{
			// The message number in the first 8 bytes catches it.
			name: "an old message echoed again",
			gen:  load.Generator{Conns: 1, Size: 64, Repeat: 10},
			serve: func(c net.Conn) {
				var first []byte
				echoMessages(64, func(k int, msg []byte) bool {
					if k == 1 {
						first = append([]byte(nil), msg...)
					} else {
						copy(msg, first)
					}
					return true
				})(c)
			},
			want: "load: connection 1: echo of message 2 differs from what was sent at byte 7",
		},
		{
			name: "a byte changed in a message too small for a number",
			gen:  load.Generator{Conns: 1, Size: 4, Repeat: 10},
			serve: echoMessages(4, func(k int, msg []byte) bool {
				if k == 2 {
					msg[0] ^= 1
				}
				return true
			}),
			want: "load: connection 1: echo of message 2 differs from what was sent at byte 0",
		},
		{
			name: "hangs up during a message",
			gen:  load.Generator{Conns: 1, Size: 64, Repeat: 10},
			serve: func(c net.Conn) {
				echoMessages(64, func(k int, msg []byte) bool {
					if k == 3 {
						c.Write(msg[:10])
						return false
					}
					return true
				})(c)
			},
			want: "load: connection 1: server closed the connection after echoing 10 of 64 bytes of message 3",
		},
		{
			// The run would last a minute; the wrong byte ends it.
			name: "a byte changed in a stream",
			gen:  load.Generator{Conns: 1, Stream: true, Duration: time.Minute},
			serve: func(c net.Conn) {
				buf := make([]byte, 4096)
				for off := 0; ; {
					n, err := c.Read(buf)
					if 1000 >= off && 1000 < off+n {
						buf[1000-off] ^= 1
					}
					off += n
					if _, werr := c.Write(buf[:n]); err != nil || werr != nil {
						return
					}
				}
			},
			want: "load: connection 1: echo differs from what was sent at byte 1000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testutil.CheckLeaks(t)
			addr := fake.Server(t, tt.serve)
			_, err := tt.gen.Run(context.Background(), addr)
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestLoadConnectionRefused(t *testing.T) {
	ln := testutil.Listen(t)
	addr := ln.Addr().String()
	ln.Close()

	l := &load.Generator{Conns: 3, Size: 64, Repeat: 1}
	_, err := l.Run(context.Background(), addr)
	assert.ErrorIs(t, err, syscall.ECONNREFUSED)
	// Any of the three may be the first to fail.
	assert.Regexp(t, `^load: connection [123]: dial tcp `+addr+`: connect: connection refused$`, err.Error())
}

func TestLoadStopsWhenContextEnds(t *testing.T) {
	testutil.CheckLeaks(t)
	accepted := make(chan struct{}, 2)
	addr := fake.Server(t, func(c net.Conn) {
		accepted <- struct{}{}
		io.Copy(io.Discard, c) // and never answer
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := (&load.Generator{Conns: 2, Size: 64, Duration: time.Hour}).Run(ctx, addr)
		done <- err
	}()
	for range 2 {
		testutil.Receive(t, accepted, "the load's connections")
	}
	cancel()
	assert.ErrorIs(t, testutil.Receive(t, done, "Run to return"), context.Canceled)
}

// A run of over a second prints a progress line, in the form it documents.
// (A line comes about every second; how many lines is not checked.)
func TestLoadProgress(t *testing.T) {
	tests := []struct {
		name string
		gen  load.Generator
		want string
	}{
		{"ping-pong", load.Generator{Conns: 1, Size: 64, Duration: 1100 * time.Millisecond}, `^(\d+s: \d+ msgs, \d+ msgs/s\n)+$`},
		{"stream", load.Generator{Conns: 1, Stream: true, Duration: 1100 * time.Millisecond}, `^(\d+s: \d+(\.\d)? [kMG]?B, \d+\.\d MB/s\n)+$`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := testutil.StartServer(t, &multiconn.Server{}, multiconn.ErrServerClosed)
			var progress testutil.Buffer
			tt.gen.Progress = &progress
			_, err := tt.gen.Run(context.Background(), r.Addr)
			require.NoError(t, err)
			assert.Regexp(t, tt.want, progress.String())
		})
	}
}

func TestLoadChecksArguments(t *testing.T) {
	tests := []struct {
		name string
		gen  load.Generator
		want string
	}{
		{"no connections", load.Generator{Size: 64, Repeat: 1}, "load: 0 connections: need at least 1"},
		{"size 0", load.Generator{Conns: 1, Repeat: 1}, "load: -size must be at least 1"},
		{"negative repeat", load.Generator{Conns: 1, Size: 64, Repeat: -1}, "load: -repeat must not be negative"},
		{"negative duration", load.Generator{Conns: 1, Size: 64, Duration: -time.Second}, "load: -duration must not be negative"},
		{"no bound", load.Generator{Conns: 1, Size: 64}, "load: give -repeat or -duration (or both), or the run would never end"},
		{"stream without duration", load.Generator{Conns: 1, Stream: true}, "load: -stream needs a -duration"},
		{"stream with repeat", load.Generator{Conns: 1, Stream: true, Repeat: 5, Duration: time.Second}, "load: -repeat counts ping-pong messages, and -stream sends none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens on port 1: Run must fail before dialing.
			_, err := tt.gen.Run(context.Background(), "127.0.0.1:1")
			assert.EqualError(t, err, tt.want)
		})
	}
}

func TestLoadResultString(t *testing.T) {
	tests := []struct {
		name string
		res  load.Result
		want string
	}{
		{
			name: "ping-pong",
			res: load.Result{Conns: 100, Msgs: 1234567, Bytes: 1234567 * 64, Elapsed: 5 * time.Second,
				P50: 380*time.Microsecond + 321, P90: 520 * time.Microsecond, P99: 1149 * time.Microsecond},
			want: "100 conns, 64-byte messages: 1234567 msgs in 5.0s, 246913 msgs/s, 15.8 MB/s, latency p50 380µs p90 520µs p99 1.1ms",
		},
		{
			name: "stream",
			res:  load.Result{Conns: 1, Bytes: 17_100_000_000, Elapsed: 5 * time.Second},
			want: "1 conn, stream: 17.1 GB in 5.0s, 3420.0 MB/s",
		},
		{
			name: "slow",
			res: load.Result{Conns: 2, Msgs: 10, Bytes: 10, Elapsed: 2500 * time.Millisecond,
				P50: 12345 * time.Microsecond, P90: 250 * time.Millisecond, P99: 1234 * time.Millisecond},
			want: "2 conns, 1-byte messages: 10 msgs in 2.5s, 4 msgs/s, 0.0 MB/s, latency p50 12.3ms p90 250ms p99 1.23s",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.res.String())
		})
	}
	res := tests[0].res
	assert.InDelta(t, 246913.4, res.MsgsPerSec(), 0.1)
	assert.InDelta(t, 15.802, res.MBPerSec(), 0.001)
	assert.Zero(t, load.Result{}.MsgsPerSec(), "no time, no rate")
}
