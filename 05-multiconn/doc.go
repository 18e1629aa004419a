// Package multiconn is chapter 05 of the course: an echo server for many
// connections at once, each with its own state, bounded in every way that
// matters (how long a client may stay silent, how long it may take to read
// its echo, how many may connect, how much memory an idle one costs), and
// a client that opens many connections at once and checks every echo.
//
// It ports the tutorial's multiconn-server.py and multiconn-client.py. The
// tutorial keeps each socket's state (address, bytes to send) in a
// SimpleNamespace next to a selectors loop; here each connection's state is
// a struct owned by the goroutine that serves it.
//
// What changed since 04-select: no shared room, so no hub: connections are
// independent, and the work is keeping thousands of them cheap and safe.
//
// The server is in server.go and the client in client.go. limits.go has
// the timeouts, the buffer sizes and MaxConns; internal/wire renews
// deadlines lazily (for the load generator too); stats.go has the server's counters; shutdown.go has Close;
// accept.go retries Accept when out of descriptors; linger.go resets the
// clients the server drops. The client as a load generator, behind
// multiconn-client's -repeat, -duration and -stream, is package load.
package multiconn
