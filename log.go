package eventgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate/internal/dedup"
	"github.com/eventgate/eventgate/internal/jsonx"
	"github.com/eventgate/eventgate/internal/record"
)

// ErrInvalidEvent is matched by every error Log returns for an event it
// refuses to record (bad session id, invalid JSON data, invalid UTF-8).
var ErrInvalidEvent = errors.New("eventgate: invalid event")

// ErrEventTooLarge is matched by the error Log returns for an event whose
// Data and Meta together exceed the configured maximum.
var ErrEventTooLarge = errors.New("eventgate: event too large")

// Log records ev durably (under the sync policy) and returns. Delivery to the
// transports happens afterwards, in the background; no transport failure
// can fail, block or lose a Log call. The only errors are local: an invalid
// or oversized event, a full backlog under the Block policy, a closed
// Gateway, or a journal write failure.
//
// An event given with an ID that is already recorded within the dedup window
// (see WithDedup) is not recorded again: Log returns nil, as for the first.
// Concurrent calls with one ID record it once, and none returns before it is
// recorded. LogBatchResults tells which events were duplicates.
//
// Log fills ev's empty ID, SessionID, Type and zero Time as documented on
// Event; it does not otherwise modify ev or retain it.
func (g *Gateway) Log(ctx context.Context, ev *Event) error {
	explicit := ev != nil && ev.ID != "" && g.dd != nil
	if err := g.prepare(ev); err != nil {
		return err
	}
	g.closeMu.RLock()
	defer g.closeMu.RUnlock()
	if g.closed.Load() {
		return fmt.Errorf("eventgate: log: %w", ErrClosed)
	}
	if err := g.waitRoom(ctx); err != nil {
		return err
	}
	if !explicit {
		_, err := g.appendOne(ctx, ev)
		return err
	}
	for {
		c := g.dd.Claim(ev.ID)
		switch c.Status {
		case dedup.Duplicate:
			return nil
		case dedup.Busy:
			if err := g.waitClaim(ctx, c.Wait); err != nil {
				return err
			}
			continue
		}
		seq, err := g.appendOne(ctx, ev)
		if err != nil {
			g.dd.Abort(c)
			return err
		}
		g.dd.Commit(c, seq)
		return nil
	}
}

// appendOne writes one prepared event to the journal and returns its seq.
func (g *Gateway) appendOne(ctx context.Context, ev *Event) (uint64, error) {
	bp := g.bufPool.Get().(*[]byte)
	buf := g.encode((*bp)[:0], ev)
	seq, err := g.j.Append(ctx, buf)
	if cap(buf) <= 64<<10 {
		*bp = buf
		g.bufPool.Put(bp)
	}
	if err != nil {
		return 0, logError(err)
	}
	g.logged.Add(1)
	return seq, nil
}

// waitClaim waits until another call recording the same ID has settled.
func (g *Gateway) waitClaim(ctx context.Context, wait <-chan struct{}) error {
	select {
	case <-wait:
		return nil
	case <-g.closing:
		return fmt.Errorf("eventgate: log: %w", ErrClosed)
	case <-ctx.Done():
		return fmt.Errorf("eventgate: log: waiting for a concurrent call recording the same id: %w", ctx.Err())
	}
}

// LogResult reports what LogBatchResults did with one event.
type LogResult struct {
	// Duplicate is set when the event's ID was already recorded within the
	// dedup window (see WithDedup): nothing was written for it.
	Duplicate bool
	// Seq is the journal seq of the event's record: of the original record
	// for a duplicate; 0 for a refused event.
	Seq uint64
}

// LogBatch records every valid event of evs with one journal write (one
// fsync under SyncAlways) and returns nil when all were recorded (or were
// duplicates; see Log). When some are invalid it records the others and
// returns a *BatchError naming the refused ones by index. Any other error
// means none was recorded.
func (g *Gateway) LogBatch(ctx context.Context, evs []*Event) error {
	return g.logBatch(ctx, evs, nil)
}

// LogBatchResults is LogBatch that also reports, for each event of evs (by
// index), whether it was a duplicate and its journal seq. The results are
// valid when the error is nil or a *BatchError (refused events then have a
// zero result).
func (g *Gateway) LogBatchResults(ctx context.Context, evs []*Event) ([]LogResult, error) {
	res := make([]LogResult, len(evs))
	return res, g.logBatch(ctx, evs, res)
}

func (g *Gateway) logBatch(ctx context.Context, evs []*Event, res []LogResult) error {
	var explicit []bool
	if g.dd != nil {
		for i, ev := range evs {
			if ev != nil && ev.ID != "" {
				if explicit == nil {
					explicit = make([]bool, len(evs))
				}
				explicit[i] = true
			}
		}
	}
	var bad map[int]error
	valid := 0
	for i, ev := range evs {
		if err := g.prepare(ev); err != nil {
			if bad == nil {
				bad = make(map[int]error)
			}
			bad[i] = err
			continue
		}
		valid++
	}
	if valid > 0 {
		g.closeMu.RLock()
		defer g.closeMu.RUnlock()
		if g.closed.Load() {
			return fmt.Errorf("eventgate: log: %w", ErrClosed)
		}
		if err := g.waitRoom(ctx); err != nil {
			return err
		}
		var err error
		if explicit == nil {
			err = g.appendBatch(ctx, evs, bad, nil, res)
		} else {
			err = g.appendDedup(ctx, evs, bad, explicit, res)
		}
		if err != nil {
			return err
		}
	}
	if bad != nil {
		return &BatchError{Failed: bad}
	}
	return nil
}

// appendBatch writes the events of evs that are neither refused (in bad) nor
// skipped, with one journal write, and fills res's seqs (res may be nil).
func (g *Gateway) appendBatch(ctx context.Context, evs []*Event, bad map[int]error, skip []bool, res []LogResult) error {
	payloads := make([][]byte, 0, len(evs)-len(bad))
	for i, ev := range evs {
		if _, refused := bad[i]; refused || (skip != nil && skip[i]) {
			continue
		}
		payloads = append(payloads, g.encode(nil, ev))
	}
	if len(payloads) == 0 {
		return nil
	}
	first, err := g.j.Append(ctx, payloads...)
	if err != nil {
		return logError(err)
	}
	g.logged.Add(uint64(len(payloads)))
	if res != nil {
		seq := first
		for i := range evs {
			if _, refused := bad[i]; refused || (skip != nil && skip[i]) {
				continue
			}
			res[i].Seq = seq
			seq++
		}
	}
	return nil
}

// appendDedup claims the explicit ids of evs, then writes, with one journal
// write, the events that are new. Claims are taken in id order, so that two
// batches waiting for each other's ids cannot wait in a circle; a batch that
// meets an id being written by another call waits for it holding only
// claims on smaller ids. Either every new event is written, or none is and
// every claim is released.
func (g *Gateway) appendDedup(ctx context.Context, evs []*Event, bad map[int]error, explicit []bool, res []LogResult) error {
	if res == nil {
		res = make([]LogResult, len(evs))
	}
	order := make([]int, 0, len(evs))
	for i := range evs {
		if _, refused := bad[i]; explicit[i] && !refused {
			order = append(order, i)
		}
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(evs[a].ID, evs[b].ID); c != 0 {
			return c
		}
		return a - b
	})
	claims := make([]dedup.Claim, len(evs))
	skip := make([]bool, len(evs)) // not written: duplicates
	var owned []int
	var again [][2]int // an id given twice in evs: (later index, first index)
	release := func() {
		for _, i := range owned {
			g.dd.Abort(claims[i])
		}
	}
	first := -1
	for _, i := range order {
		if first >= 0 && evs[first].ID == evs[i].ID {
			skip[i] = true
			again = append(again, [2]int{i, first})
			continue
		}
		first = i
		for {
			c := g.dd.Claim(evs[i].ID)
			if c.Status == dedup.Busy {
				if err := g.waitClaim(ctx, c.Wait); err != nil {
					release()
					return err
				}
				continue
			}
			if c.Status == dedup.Duplicate {
				skip[i] = true
				res[i] = LogResult{Duplicate: true, Seq: c.Seq}
			} else {
				claims[i] = c
				owned = append(owned, i)
			}
			break
		}
	}
	if err := g.appendBatch(ctx, evs, bad, skip, res); err != nil {
		release()
		return err
	}
	for _, i := range owned {
		g.dd.Commit(claims[i], res[i].Seq)
	}
	for _, p := range again {
		res[p[0]] = LogResult{Duplicate: true, Seq: res[p[1]].Seq}
	}
	return nil
}

func (g *Gateway) encode(dst []byte, ev *Event) []byte {
	f := record.Fields{TimeNanos: ev.Time.UnixNano(), ID: ev.ID, Session: ev.SessionID,
		Type: ev.Type, Data: ev.Data, Meta: ev.Meta}
	if len(f.Data) == 0 {
		f.Data = nullJSON
	}
	return record.Append(dst, &f)
}

var nullJSON = []byte("null")

// prepare fills ev's derived fields and validates it.
func (g *Gateway) prepare(ev *Event) error {
	if ev == nil {
		return fmt.Errorf("%w: nil event", ErrInvalidEvent)
	}
	if err := g.checkSize(ev); err != nil {
		return err
	}
	if len(ev.Data) > 0 && g.cfg.validateData && !jsonx.Valid(ev.Data) {
		return fmt.Errorf("%w: data is not valid JSON", ErrInvalidEvent)
	}
	if g.cfg.validateData && !utf8.Valid(ev.Data) {
		return fmt.Errorf("%w: data is not valid UTF-8", ErrInvalidEvent)
	}
	if ev.SessionID == "" || ev.Type == "" {
		derive(ev)
	}
	if ev.SessionID == "" {
		ev.SessionID = g.cfg.fallbackSession
	}
	if err := ValidateSessionID(ev.SessionID); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now()
		if ev.ID == "" {
			ev.ID = g.ids.newAt(ev.Time) // one clock reading for both
		}
	}
	if ev.ID == "" {
		ev.ID = g.ids.newAt(time.Now())
	} else if len(ev.ID) > 256 || !utf8.ValidString(ev.ID) {
		return fmt.Errorf("%w: id must be valid UTF-8 of at most 256 bytes", ErrInvalidEvent)
	}
	if !utf8.ValidString(ev.Type) || len(ev.Type) > 1024 {
		return fmt.Errorf("%w: type must be valid UTF-8 of at most 1024 bytes", ErrInvalidEvent)
	}
	for k, v := range ev.Meta {
		if !utf8.ValidString(k) || !utf8.ValidString(v) {
			return fmt.Errorf("%w: meta %s: not valid UTF-8", ErrInvalidEvent, quoteForError(k))
		}
	}
	return nil
}

// derive fills SessionID and Type from Data's top-level "user_session_id",
// "session_id" and "type" members, the original logger's rule. String values
// are taken as they are; numbers by their literal text. When a member occurs
// twice, the last one counts, as with encoding/json.
func derive(ev *Event) {
	if len(ev.Data) == 0 {
		return
	}
	var user, sess, typ []byte
	ok := jsonx.Members(ev.Data, func(key, value []byte) bool {
		switch memberCode(key) {
		case memberUserSession:
			user = value
		case memberSession:
			sess = value
		case memberType:
			typ = value
		}
		return true
	})
	if !ok {
		return
	}
	if ev.SessionID == "" {
		if s := scalar(user); s != "" {
			ev.SessionID = s
		} else {
			ev.SessionID = scalar(sess)
		}
	}
	if ev.Type == "" {
		ev.Type = scalar(typ)
	}
}

const (
	memberOther = iota
	memberUserSession
	memberSession
	memberType
)

// memberCode tells which of the derivation keys a raw JSON key (quotes
// included) is, unescaping it only when it holds an escape.
func memberCode(key []byte) int {
	inner := key[1 : len(key)-1]
	if bytes.IndexByte(inner, '\\') >= 0 {
		var s string
		if json.Unmarshal(key, &s) != nil {
			return memberOther
		}
		inner = []byte(s)
	}
	switch string(inner) {
	case "user_session_id":
		return memberUserSession
	case "session_id":
		return memberSession
	case "type":
		return memberType
	}
	return memberOther
}

// scalar returns a JSON string's value or a number's literal text, and ""
// for anything else.
func scalar(raw []byte) string {
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		inner := raw[1 : len(raw)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner)
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if _, err := strconv.ParseFloat(string(raw), 64); err == nil {
			return string(raw)
		}
	}
	return ""
}
