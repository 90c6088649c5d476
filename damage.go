package eventgate

import (
	"fmt"
	"time"

	"github.com/eventgate/eventgate/internal/journal"
)

// JournalDamage is a range of the journal that was found damaged (bytes
// that hold no valid record) or missing (seqs no segment holds), and the
// records it lost. Every reader skips it; each route records a dead letter
// of kind "damaged" for the records it therefore never delivered.
type JournalDamage struct {
	Segment uint64 `json:"segment"` // the segment's name: the seq of its first record
	Offset  int64  `json:"offset"`
	Bytes   int64  `json:"bytes"`    // damaged bytes; 0 when only seqs are missing
	FromSeq uint64 `json:"from_seq"` // first record lost
	ToSeq   uint64 `json:"to_seq"`   // last record lost; below FromSeq when none was
	Lost    uint64 `json:"lost"`     // records lost
	Reason  string `json:"reason"`
	// Quarantine is the file, beside the segment in the journal directory,
	// that keeps a copy of the damaged bytes.
	Quarantine   string    `json:"quarantine,omitempty"`
	FoundBy      string    `json:"found_by,omitempty"` // "recovery", "sessions" or "route.<name>"
	At           time.Time `json:"at,omitzero"`
	Acknowledged bool      `json:"acknowledged"`
}

func damageOf(d journal.Damage) JournalDamage {
	return JournalDamage{Segment: d.Segment, Offset: d.Offset, Bytes: d.Length, FromSeq: d.FromSeq,
		ToSeq: d.ToSeq, Lost: d.Lost(), Reason: d.Reason, Quarantine: d.Quarantine}
}

// Damage returns every damaged or missing journal range found so far, by
// recovery or by a reader, oldest first, acknowledged or not.
func (g *Gateway) Damage() []JournalDamage {
	reps := g.j.Damaged()
	out := make([]JournalDamage, 0, len(reps))
	for _, r := range reps {
		d := damageOf(r.Damage)
		d.FoundBy, d.At, d.Acknowledged = r.FoundBy, r.At, r.Acknowledged
		out = append(out, d)
	}
	return out
}

// AckDamage acknowledges every journal damage found so far, so that it no
// longer makes the Gateway report itself unready (see Stats.DamageUnacked).
// It returns how many entries it acknowledged.
func (g *Gateway) AckDamage() (int, error) {
	n, err := g.j.AckDamage()
	if err != nil {
		return n, fmt.Errorf("eventgate: acknowledge damage: %w", err)
	}
	return n, nil
}
