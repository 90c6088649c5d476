package eventgate

import (
	"fmt"
	"time"
	"unsafe"

	"github.com/eventgate/eventgate/internal/record"
)

// Sizes of the blocks a recordDecoder carves events from. A transport that
// keeps one event keeps its block alive, so the blocks stay small.
const (
	decodeArenaSize = 16 << 10 // bytes of IDs and data
	decodeArenaMax  = 4 << 10  // larger events get their own allocation
	decodeSlabSize  = 64       // Events
	decodeStrings   = 4096     // distinct shared strings before the table is cleared
	decodeStringMax = 64       // longer strings are not shared
)

// recordDecoder turns journal records into new Events for one route. It is
// used by one goroutine at a time. Events are carved from blocks that are
// never written again once handed out, and the strings that repeat from event
// to event (session ids, types) are shared, so a decoded event costs
// few allocations; to its receiver it is an ordinary Event it may keep.
type recordDecoder struct {
	checked bool // the Gateway validated every record's data
	strs    map[string]string
	arena   []byte  // unused tail of the current byte block
	slab    []Event // unused tail of the current Event block
}

func newRecordDecoder(checked bool) *recordDecoder {
	return &recordDecoder{checked: checked, strs: make(map[string]string)}
}

// decode returns the event in payload.
func (d *recordDecoder) decode(payload []byte) (*Event, error) {
	v, err := record.Decode(payload)
	if err != nil {
		return nil, fmt.Errorf("eventgate: %w", err)
	}
	if len(d.slab) == 0 {
		d.slab = make([]Event, decodeSlabSize)
	}
	ev := &d.slab[0]
	d.slab = d.slab[1:]
	id := d.bytes(v.ID)
	ev.ID = unsafe.String(unsafe.SliceData(id), len(id))
	ev.SessionID = d.share(v.Session)
	ev.Type = d.share(v.Type)
	ev.Time = time.Unix(0, v.TimeNanos)
	if len(v.Data) > 0 {
		ev.Data = d.bytes(v.Data)
		if d.checked {
			ev.checked = ev.Data
		}
	}
	if len(v.Meta) > 0 {
		ev.Meta = d.bytes(v.Meta)
	}
	return ev, nil
}

// bytes returns a copy of b that nothing else refers to, with no spare
// capacity, so that appending to it cannot reach a neighbour's bytes.
func (d *recordDecoder) bytes(b []byte) []byte {
	n := len(b)
	if n == 0 {
		return []byte{}
	}
	if n > decodeArenaMax {
		return append([]byte(nil), b...)
	}
	if len(d.arena) < n {
		d.arena = make([]byte, decodeArenaSize)
	}
	c := d.arena[:n:n]
	copy(c, b)
	d.arena = d.arena[n:]
	return c
}

// share returns b as a string, the same string for the same bytes while the
// table holds it.
func (d *recordDecoder) share(b []byte) string {
	if s, ok := d.strs[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(b) <= decodeStringMax {
		if len(d.strs) >= decodeStrings {
			clear(d.strs)
		}
		d.strs[s] = s
	}
	return s
}
