// Package fake has a misbehaving server for the tests of the chapter's
// client and of its load generator (package load), which both need one: a
// listener whose connections do whatever a test tells them to. Only tests
// import it.
package fake

import (
	"net"
	"sync"
	"testing"
	"time"

	"example.com/sockets/05-multiconn/internal/testutil"
)

// Server is a fake server for tests of a client: it accepts connections
// until the test ends and serves each with serve, on a goroutine of its
// own, with a deadline of testutil.Timeout, and returns its address. The
// connection is closed when serve returns. At cleanup the listener and
// every connection are closed, and the goroutines waited for.
func Server(t testing.TB, serve func(c net.Conn)) string {
	t.Helper()
	ln := testutil.Listen(t)
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		conns  []net.Conn
		closed bool
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(testutil.Timeout))
			mu.Lock()
			if closed {
				c.Close()
			}
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		closed = true
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		done := make(chan struct{})
		go func() {
			wg.Wait()
			close(done)
		}()
		testutil.Receive(t, done, "the fake server's goroutines to end")
	})
	return ln.Addr().String()
}
