// Package app is chapter 06 of the course: the tutorial's application, a
// search service spoken over the length + JSON header protocol of package
// message. The client asks {"action": "search", "value": "morpheus"} and
// the server answers {"result": "Follow the white rabbit. 🐰"}; any other
// action is sent as binary content, and the server answers with its first
// ten bytes.
//
// It ports the tutorial's app-server.py and app-client.py: Server and
// Client speak byte for byte as they do, so each works with the other's
// Python version. Beyond the tutorial, the server answers any number of
// requests on one connection, and a bad request, a silent client or a
// client that never reads costs it a clear log line and that one
// connection, nothing more. Its memory is bounded for all clients
// together: so many connections, and so many bytes for the requests in
// progress; a client beyond either is told the server is busy.
//
// What changed since 05-multiconn: the server still runs a goroutine per
// connection, but it no longer echoes bytes: it reads whole messages with
// message.Parser and answers each one. The idle timeout and MaxConns stay;
// a timeout for a whole request, a limit on its size and a memory budget
// for all requests together are new.
//
// The server is in server.go and the client in client.go; app.go is the
// search service (Respond), and quote.go shows what a peer sent in a line.
// limits.go has the defaults and the answer beyond MaxConns, budget.go the
// memory budget, stats.go the counters, accept.go the retry when out of
// descriptors, shutdown.go Close, and hangup.go and linger.go how a
// connection ends. The never-read and flood demonstrations are in
// internal/demo.
package app
