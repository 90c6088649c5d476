package eventgate

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// DeadLetter is an event a route gave up on, or a range of events it dropped
// under BacklogDropOldest.
type DeadLetter struct {
	Seq      uint64          `json:"seq,omitempty"`
	Event    json.RawMessage `json:"event,omitempty"` // the event's JSON form; empty for a dropped range
	Error    string          `json:"error"`
	Kind     string          `json:"kind,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	First    time.Time       `json:"first_attempt,omitzero"`
	At       time.Time       `json:"at"`
	Dropped  *DroppedRange   `json:"dropped,omitempty"`
	// Damaged, in an entry of kind "damaged", describes records the journal
	// lost (see Gateway.Damage), which the route therefore never delivered.
	Damaged *DamagedRange `json:"damaged,omitempty"`
}

// DamagedRange describes records a route skipped because the journal lost
// them: where the damage is, which seqs it lost, and why.
type DamagedRange struct {
	FromSeq    uint64 `json:"from_seq"`
	ToSeq      uint64 `json:"to_seq"`
	Count      uint64 `json:"count"`
	Segment    uint64 `json:"segment"`
	Offset     int64  `json:"offset"`
	Bytes      int64  `json:"bytes"`
	Reason     string `json:"reason"`
	Quarantine string `json:"quarantine,omitempty"`
}

// DroppedRange describes events skipped without delivery.
type DroppedRange struct {
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Count   uint64 `json:"count"`
	Bytes   int64  `json:"bytes"`
}

// RedriveResult counts what Redrive did.
type RedriveResult struct {
	Delivered int `json:"delivered"` // delivered and removed from the dead letters
	Failed    int `json:"failed"`    // failed again; kept with the new error
	Skipped   int `json:"skipped"`   // entries without an event (dropped ranges)
}

func (g *Gateway) route(name string) (*gwRoute, error) {
	for _, r := range g.routes {
		if r.name == name {
			return r, nil
		}
	}
	return nil, fmt.Errorf("eventgate: no route named %s", quoteForError(name))
}

// Routes returns the names of the Gateway's routes, in configuration order.
func (g *Gateway) Routes() []string {
	out := make([]string, len(g.routes))
	for i, r := range g.routes {
		out[i] = r.name
	}
	return out
}

// DeadLetters returns route name's dead letters, oldest first.
func (g *Gateway) DeadLetters(name string) ([]DeadLetter, error) {
	r, err := g.route(name)
	if err != nil {
		return nil, err
	}
	dls, err := r.r.DeadLetters()
	if err != nil {
		return nil, err
	}
	out := make([]DeadLetter, len(dls))
	for i, d := range dls {
		out[i] = DeadLetter{Seq: d.Seq, Event: d.Event, Error: d.Error, Kind: d.Kind, Attempts: d.Attempts,
			First: d.First, At: d.At}
		if d.Dropped != nil {
			dr := DroppedRange(*d.Dropped)
			out[i].Dropped = &dr
		}
		if d.Damaged != nil {
			dr := DamagedRange(*d.Damaged)
			out[i].Damaged = &dr
		}
	}
	return out, nil
}

// Redrive sends each of route name's dead-lettered events once more, in
// order, through the route's transport; delivered ones leave the dead
// letters, the others stay with their new error.
func (g *Gateway) Redrive(ctx context.Context, name string) (RedriveResult, error) {
	r, err := g.route(name)
	if err != nil {
		return RedriveResult{}, err
	}
	res, err := r.r.Redrive(ctx)
	return RedriveResult(res), err
}
