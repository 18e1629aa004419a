// Package reverse is chapter 07 of the course, its last: sockets by hand.
//
// It ports a short tutorial in which two Python sessions, side by side, make
// one TCP connection one call at a time: the server side binds, listens and
// accepts; the client side connects and sends "Hello, world!"; the server
// receives it, sends it back reversed and closes; the client receives
// "!dlrow ,olleH", and then an empty read: the server has closed.
//
// The package has the two sides of that session as Go code: a Server that
// answers every client that way, any number at once, and a REPL, a small
// command interpreter that lets a person (or a script) dial, send, receive,
// half-close and close one step at a time, and watch what each step does.
//
// What changed since 06-app-protocol: almost everything is smaller. There is
// no framing here on purpose: the server answers whatever its first read
// returns, as the tutorial does, and the chapter shows what that can and
// cannot promise. The client is new: a REPL that makes one socket call for
// each command it reads, where 06's client sent a request and waited for
// the response in one call.
//
// The server is in server.go, and the reversal it applies in reverse.go;
// shutdown.go has Close, accept.go the retry when out of descriptors,
// limits.go the defaults, and linger.go the close that lets the answer
// arrive. The REPL's socket calls, one per command, are in sockets.go, each
// with what it does on the wire; repl.go reads and parses the commands,
// interrupt.go ends a call that waits (a timeout, or Ctrl-C), and hints.go
// explains the errors a learner meets.
package reverse
