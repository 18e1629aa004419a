package multiconn

// The server's counters, new in this chapter: every connection's goroutine
// updates them, so they are atomics, read together by Stats.

import "fmt"

// Stats are the server's counters at one moment.
type Stats struct {
	Open     int64 // connections open now
	Total    int64 // connections accepted and served, ever
	Refused  int64 // connections turned away by MaxConns
	BytesIn  int64 // bytes received, from all connections
	BytesOut int64 // bytes echoed, to all connections
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	return Stats{
		Open:     s.open.Load(),
		Total:    s.total.Load(),
		Refused:  s.refused.Load(),
		BytesIn:  s.bytesIn.Load(),
		BytesOut: s.bytesOut.Load(),
	}
}

// String sums up what the server did, as multiconn-server says it when it
// stops: "2 connections served, 0 refused, 88 bytes echoed".
func (st Stats) String() string {
	return fmt.Sprintf("%s served, %d refused, %s echoed", plural(st.Total, "connection"), st.Refused, plural(st.BytesOut, "byte"))
}
