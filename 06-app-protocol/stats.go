package app

// The server's counters, which app-server sums up when it stops. Chapter
// 05 adds them; this chapter counts requests and bad clients instead of
// bytes.

// Stats are the server's counters at one moment.
type Stats struct {
	Requests int64 // whole requests received and answered, bad ones included
	Rejected int64 // clients disconnected for sending something that is not a request
	Refused  int64 // clients turned away with ErrBusy: too many connections, or no room for a request
	Open     int64 // connections open now
	Held     int64 // bytes of MaxMemory that requests in progress hold now
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests: s.requests.Load(),
		Rejected: s.rejected.Load(),
		Refused:  s.refused.Load(),
		Open:     int64(s.open()),
		Held:     s.held.Load(),
	}
}

// open returns how many connections the server is serving.
func (s *Server) open() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}
