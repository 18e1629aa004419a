// Package threaded is chapter 03 of the course: a server that gives every
// client its own goroutine, so that any number of clients can talk to it at
// once, and a client that sends lines and prints the replies.
//
// It ports the tutorial's threaded server: a client is greeted with
// "Welcome to the server. Type something and hit enter" and every line it
// sends is answered with "OK..." and the line.
//
// What changed since 02-echo: Serve runs handleConn with `go` in front, and
// records each connection and counts its goroutine in a WaitGroup, so that
// Close, and the new Shutdown, can end them and wait for them; Accept is
// retried when the process runs out of descriptors; and the server talks in
// lines instead of echoing raw bytes, which needs framing: a TCP read is not
// a line.
//
// The server is in server.go and the client in client.go. Beside them,
// shutdown.go has Close and Shutdown, accept.go the retried Accept,
// linger.go how a conversation ends (the last line, the lingering close,
// the reset), limits.go the defaults, and replies.go the client's check of
// every reply.
package threaded
