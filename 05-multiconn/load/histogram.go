package load

// The latency histogram: every round trip is counted, in 4 KB, however
// long the run.

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// A histogram counts durations in buckets, so that its size does not grow
// with the number of round trips: 512 counters, 4 KB, whether a run makes
// a hundred round trips or a hundred million.
//
// The buckets are log-linear: each power of two is split into 16 buckets
// of equal width. Durations below 16ns have a bucket each; [16ns, 32ns)
// has 16 buckets 1ns wide, [32ns, 64ns) has 16 buckets 2ns wide, and so on
// up to [2^34ns, 2^35ns), about 17 to 34 seconds, where longer durations
// are counted too. A bucket is at most 1/16 of its lower bound wide, and a
// percentile is reported as the middle of its bucket: within 1/32, about
// 3%, of the true value. For a round trip of 380µs that is ±12µs.
//
// The connections record into one histogram with atomic adds, so the
// histogram can be read while they run, for progress lines.
type histogram struct {
	counts [histBuckets]atomic.Int64
}

const (
	histSubBits = 4                // 16 buckets per power of two
	histSub     = 1 << histSubBits // 16
	histMaxBits = 35               // durations up to 2^35ns have a bucket of their own
	// The last power of two, [2^34ns, 2^35ns), starts at bucket
	// (34-histSubBits)*histSub: see bucket.
	histBuckets = (histMaxBits - histSubBits + 1) * histSub // 512
)

// bucket returns the index of the bucket for d.
func bucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < histSub {
		return int(v) // exact
	}
	// v has e more bits than the 5 that v>>e keeps: the leading 1 and
	// the 4 that pick one of the power of two's 16 buckets.
	e := bits.Len64(v) - histSubBits - 1
	return min(e*histSub+int(v>>e), histBuckets-1)
}

// bucketMiddle returns the duration in the middle of bucket i: the inverse
// of bucket, to within half a bucket.
func bucketMiddle(i int) time.Duration {
	if i < histSub {
		return time.Duration(i)
	}
	e := i/histSub - 1
	low := uint64(histSub+i%histSub) << e
	return time.Duration(low + (uint64(1)<<e)/2)
}

func (h *histogram) record(d time.Duration) { h.counts[bucket(d)].Add(1) }

// count returns the number of durations recorded.
func (h *histogram) count() int64 {
	var n int64
	for i := range h.counts {
		n += h.counts[i].Load()
	}
	return n
}

// percentile returns the duration that p percent of the recorded ones do
// not exceed, to within half a bucket; 0 if none were recorded.
func (h *histogram) percentile(p float64) time.Duration {
	total := h.count()
	if total == 0 {
		return 0
	}
	rank := max(int64(math.Ceil(p/100*float64(total))), 1) // 1-based
	var seen int64
	for i := range h.counts {
		seen += h.counts[i].Load()
		if seen >= rank {
			return bucketMiddle(i)
		}
	}
	return bucketMiddle(histBuckets - 1)
}
