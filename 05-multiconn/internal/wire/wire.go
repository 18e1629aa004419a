// Package wire has what the chapter's server, its client and its load
// generator (package load) each need on one connection: a deadline renewed
// lazily, and where an echo first differs from what was sent. It is
// internal so that the load generator can share them without package
// multiconn exporting them.
package wire

import (
	"bytes"
	"time"
)

// Deadline renews a connection's deadline lazily. Chapter 02 set a deadline
// before every Read and Write; setting one updates a timer in the runtime,
// which is not free: at a hundred thousand messages a second it is a tenth
// of the server's time. So a deadline of d is set again only once an eighth
// of d has passed since it was last set: a call then always has between
// 7/8 d and d to complete. The zero value sets it on the first call.
type Deadline struct{ set time.Time }

// Arm calls set (a conn's SetReadDeadline, SetWriteDeadline or SetDeadline)
// with now+d, unless it did so less than d/8 ago.
func (dl *Deadline) Arm(set func(time.Time) error, d time.Duration) {
	now := time.Now()
	if now.Sub(dl.set) < d/8 {
		return
	}
	set(now.Add(d))
	dl.set = now
}

// FirstDiff returns the index of the first byte where a and b differ, or -1
// if they are equal. They have the same length.
func FirstDiff(a, b []byte) int {
	if bytes.Equal(a, b) { // the common case, and a fast one
		return -1
	}
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return len(a)
}
