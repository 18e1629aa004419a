// Package basic is chapter 01 of the course: the smallest useful TCP server,
// an accept loop that greets each client and hangs up, and the client that
// prints what the server said.
//
// It ports the tutorial's server.py and client.py: bind, listen, accept in a
// loop, send "Thank you for connecting", close.
//
// The server is in server.go and the client in client.go.
package basic
