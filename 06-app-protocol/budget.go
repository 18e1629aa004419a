package app

// The memory budget: MaxMemory, for the bytes that requests in progress
// hold, all connections together. Chapter 06 adds it.

import "fmt"

// smallRequest is the size, header and content, up to which a request
// takes nothing from MaxMemory. Every connection may hold one that size,
// so that requests in progress cannot crowd out an ordinary request of a
// few hundred bytes; MaxConns bounds what they cost all together.
const smallRequest = 4 << 10

// reserve makes the share of MaxMemory a connection holds fit its request in
// progress: given what it holds now and the request's expected size
// (message.Parser.Expected), it takes more or gives some back, and
// returns what it holds then. A request of at most smallRequest bytes
// needs nothing; a bigger one needs its whole size, taken once its header
// is in and before its content comes. When that much is not left, reserve
// returns an error wrapping ErrBusy, and the request is refused: better
// an answer now than a queue without end.
//
// What a request holds in memory follows what has arrived (the Parser
// reads content 16 KiB at a time, whatever the header announced); what it
// takes from MaxMemory is what it may come to hold. So requests in
// progress never hold more than MaxMemory, however many clients announce
// a megabyte and stall.
func (s *Server) reserve(held, size int) (int, error) {
	need := size
	if need <= smallRequest {
		need = 0
	}
	if need > held && !s.take(need-held) {
		return held, fmt.Errorf("%w: not enough memory for a request of %d bytes now, try again later", ErrBusy, size)
	}
	if need < held {
		s.held.Add(int64(need - held))
	}
	return need, nil
}

// take takes n bytes of MaxMemory, if there are that many left.
func (s *Server) take(n int) bool {
	limit := int64(s.maxMemory())
	for {
		used := s.held.Load()
		if used+int64(n) > limit {
			return false
		}
		if s.held.CompareAndSwap(used, used+int64(n)) {
			return true
		}
	}
}
