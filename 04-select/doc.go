// Package chat is chapter 04 of the course: a chat room, in which every line
// a client sends is confirmed to it and passed on to everybody else, and the
// client that joins it.
//
// It ports the tutorial's chat server, which asks select() which sockets
// are ready. Server is the Go way: one goroutine, the hub, owns the room and
// handles joins, leaves and messages in a select statement; every
// connection has a reader goroutine that feeds the hub and a writer
// goroutine that empties the connection's outbox. The tutorial's way, a
// single loop over non-blocking sockets that asks poll(2) which of them are
// ready, is poll.Server, in the package poll (unix only). Both speak the
// protocol described in internal/protocol, and both pass the same tests.
//
// What changed since 03-threaded: the clients talk to each other, so there
// is shared state (who is in the room), and one goroutine owns it instead
// of a mutex guarding it. A client that stops reading must not stall the
// others, so the hub never waits for a client: it drops one that stops
// reading, and reads no more from one that says more than the room can
// deliver.
//
// The server is in server.go, the room that its hub owns in room.go, and
// the client in client.go. backpressure.go has the outboxes and the byte
// accounts that keep the hub from waiting; shutdown.go has Close, accept.go
// the retry when Accept runs out of descriptors, limits.go the limits and
// their defaults, and linger.go how the server hangs up on a client.
package chat
