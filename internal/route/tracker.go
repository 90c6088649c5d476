package route

import (
	"sort"

	"github.com/eventgate/eventgate/internal/journal"
)

// tracker computes a route's low-water mark: the position after the longest
// prefix of dispatched records that were all acknowledged (delivered or
// dead-lettered). Records are added in seq order; acks come in any order.
type tracker struct {
	q    []slot // in seq order; q[head:] are live
	head int
	low  journal.Position // position after the acknowledged prefix
	n    int              // live event slots (ranges count once)
	size int64            // bytes of live, unacknowledged slots
}

type slot struct {
	last  uint64 // last seq covered (first seq is the previous slot's last + 1)
	end   journal.Position
	time  int64 // event time, unix nanos; for lag
	size  int
	acked bool
}

func newTracker(start journal.Position) *tracker { return &tracker{low: start} }

// add registers a dispatched record.
func (t *tracker) add(seq uint64, end journal.Position, timeNanos int64, size int) {
	t.q = append(t.q, slot{last: seq, end: end, time: timeNanos, size: size})
	t.n++
	t.size += int64(size)
}

// skip registers a range of records that is settled without dispatch
// (dropped, or undecodable and dead-lettered), ending at end.
func (t *tracker) skip(last uint64, end journal.Position) {
	t.q = append(t.q, slot{last: last, end: end, acked: true})
	t.advance()
}

// ack settles the record seq and reports whether the low-water mark moved.
func (t *tracker) ack(seq uint64) bool {
	if seq < t.low.Seq {
		return false // settled long ago
	}
	live := t.q[t.head:]
	i := sort.Search(len(live), func(i int) bool { return live[i].last >= seq })
	if i == len(live) || live[i].acked {
		return false
	}
	live[i].acked = true
	t.n--
	t.size -= int64(live[i].size)
	return t.advance()
}

func (t *tracker) advance() bool {
	moved := false
	for t.head < len(t.q) && t.q[t.head].acked {
		t.low = t.q[t.head].end
		t.head++
		moved = true
	}
	// Reclaim the consumed prefix once it dominates the slice.
	if t.head > 1024 && t.head*2 > len(t.q) {
		t.q = append(t.q[:0], t.q[t.head:]...)
		t.head = 0
	}
	return moved
}

// inflight returns the number of unacknowledged events and their bytes.
func (t *tracker) inflight() (int, int64) { return t.n, t.size }

// oldest returns the time of the oldest unacknowledged event, if any.
func (t *tracker) oldest() (int64, bool) {
	for _, s := range t.q[t.head:] {
		if !s.acked && s.time != 0 {
			return s.time, true
		}
	}
	return 0, false
}
