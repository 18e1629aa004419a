package app_test

import (
	"fmt"
	"runtime"
	"testing"

	app "example.com/sockets/06-app-protocol"
	"example.com/sockets/06-app-protocol/internal/testutil"
	"example.com/sockets/06-app-protocol/message"
)

// BenchmarkRequestResponse sends the tutorial's search and waits for its
// answer, over and over, on keep-alive connections to an app.Server in the
// same process: the whole path, framing, JSON, the server's goroutine and
// loopback TCP. conns=1 is one connection, one request at a time; conns=16
// is 16 connections at once, each with a goroutine of its own (16 or a
// few more, when GOMAXPROCS does not divide 16: the name says how many).
// Each op is one request and its response; allocs/op counts the client's
// and the server's allocations together.
//
//	go test -run '^$' -bench RequestResponse -benchtime 2s
func BenchmarkRequestResponse(b *testing.B) {
	req := benchRequest(b, "search", "morpheus")

	b.Run("conns=1", func(b *testing.B) {
		conn := benchDial(b, benchServer(b))
		b.ReportAllocs()
		for b.Loop() {
			benchDo(b, conn, req)
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})

	// RunParallel starts parallelism × GOMAXPROCS goroutines: ask for at
	// least 16, and dial one connection for each beforehand.
	procs := runtime.GOMAXPROCS(0)
	parallelism := (16 + procs - 1) / procs
	b.Run(fmt.Sprintf("conns=%d", parallelism*procs), func(b *testing.B) {
		addr := benchServer(b)
		b.SetParallelism(parallelism)
		conns := make(chan *app.Conn, parallelism*procs)
		for range cap(conns) {
			conns <- benchDial(b, addr)
		}
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			conn := <-conns
			for pb.Next() {
				resp, err := conn.Do(b.Context(), req)
				if err != nil {
					b.Error(err)
					return
				}
				if len(resp.Content) == 0 {
					b.Error("empty response")
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	})
}

// BenchmarkRespond is the service alone, without network or framing: one
// request in, one response out, for a search and for a binary request.
func BenchmarkRespond(b *testing.B) {
	for _, ask := range [][2]string{{"search", "morpheus"}, {"binary", "hello"}} {
		b.Run(ask[0], func(b *testing.B) {
			req := benchRequest(b, ask[0], ask[1])
			b.ReportAllocs()
			for b.Loop() {
				resp, err := app.Respond(req)
				if err != nil || len(resp.Content) == 0 {
					b.Fatalf("Respond: %q, %v", resp.Content, err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// benchServer starts a quiet app.Server, logging nothing, and returns its
// address; it is closed at cleanup.
func benchServer(b *testing.B) string {
	b.Helper()
	return testutil.StartServer(b, &app.Server{Quiet: true}, app.ErrServerClosed).Addr
}

// benchDial opens a connection to addr, closed at cleanup (before the
// server, which was started first).
func benchDial(b *testing.B, addr string) *app.Conn {
	b.Helper()
	conn, err := (&app.Client{}).Dial(b.Context(), addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return conn
}

// benchRequest is app.NewRequest, failing the benchmark on an error.
func benchRequest(b *testing.B, action, value string) message.Message {
	b.Helper()
	req, err := app.NewRequest(action, value)
	if err != nil {
		b.Fatal(err)
	}
	return req
}

// benchDo sends req on conn and checks that an answer came back.
func benchDo(b *testing.B, conn *app.Conn, req message.Message) {
	resp, err := conn.Do(b.Context(), req)
	if err != nil {
		b.Fatal(err)
	}
	if len(resp.Content) == 0 {
		b.Fatal("empty response")
	}
}
