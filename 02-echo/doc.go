// Package echo is chapter 02 of the course: an echo server that serves one
// client at a time, sending back every byte it receives until the client is
// done, and a client that sends a message and reads the whole echo.
//
// It ports the tutorial's echo-server.py and echo-client.py, and fixes what
// they leave to luck: one Read may return part of a message, and a big
// message deadlocks a client that writes everything before it reads.
//
// What changed since 01-basic-server: the server reads as well as writes,
// the client half-closes to say "I am done sending", and both handle data
// that arrives in pieces.
//
// The server is in server.go and the client in client.go; shutdown.go has
// Close, and linger.go the reset for a client that is dropped.
package echo
