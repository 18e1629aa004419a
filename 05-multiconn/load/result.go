package load

// What a run measured, and how it is shown: the line multiconn-client
// prints at the end of a load test.

import (
	"fmt"
	"time"
)

// Result is what a run measured.
type Result struct {
	Conns   int
	Msgs    int64         // round trips completed (ping-pong)
	Bytes   int64         // bytes echoed back and checked
	Elapsed time.Duration // from the moment every connection was open to the last echo

	// Round-trip latency (ping-pong only): from the first byte of a
	// message written to the last byte of its echo read. Each is within
	// about 3% of the true percentile: see histogram.
	P50, P90, P99 time.Duration
}

// MsgsPerSec returns the round trips per second.
func (r Result) MsgsPerSec() float64 { return perSecond(float64(r.Msgs), r.Elapsed) }

// MBPerSec returns the megabytes (1e6 bytes) echoed per second.
func (r Result) MBPerSec() float64 { return perSecond(float64(r.Bytes), r.Elapsed) / 1e6 }

// String sums up r on one line. A ping-pong run counts messages and a
// stream counts none, which is how String tells them apart:
//
//	100 conns, 64-byte messages: 1234567 msgs in 5.0s, 246913 msgs/s, 15.8 MB/s, latency p50 380µs p90 520µs p99 1.1ms
//	1 conn, stream: 17.1 GB in 5.0s, 3420.0 MB/s
func (r Result) String() string {
	conns := fmt.Sprintf("%d conns", r.Conns)
	if r.Conns == 1 {
		conns = "1 conn"
	}
	elapsed := fmt.Sprintf("%.1fs", r.Elapsed.Seconds())
	if r.Msgs == 0 {
		return fmt.Sprintf("%s, stream: %s in %s, %.1f MB/s", conns, byteCount(r.Bytes), elapsed, r.MBPerSec())
	}
	return fmt.Sprintf("%s, %d-byte messages: %d msgs in %s, %.0f msgs/s, %.1f MB/s, latency p50 %v p90 %v p99 %v",
		conns, r.Bytes/r.Msgs, r.Msgs, elapsed, r.MsgsPerSec(), r.MBPerSec(),
		roundLatency(r.P50), roundLatency(r.P90), roundLatency(r.P99))
}

// perSecond returns n per second of d; 0 for no time at all.
func perSecond(n float64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return n / d.Seconds()
}

// byteCount shows n bytes in decimal units: 950 B, 15.8 MB, 17.1 GB.
func byteCount(n int64) string {
	switch {
	case n < 1000:
		return fmt.Sprintf("%d B", n)
	case n < 1e6:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	case n < 1e9:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%.1f GB", float64(n)/1e9)
}

// roundLatency rounds d to two or three significant digits, which is all
// a histogram bucket can tell: 380µs, 1.1ms, 12.3ms, 250ms, 1.25s.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d < time.Millisecond:
		return d.Round(time.Microsecond)
	case d < 100*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d < time.Second:
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
