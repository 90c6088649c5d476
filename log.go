package eventgate

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

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
// Log fills ev's empty ID, SessionID, Type and zero Time as documented on
// Event; it does not otherwise modify ev or retain it.
func (g *Gateway) Log(ctx context.Context, ev *Event) error {
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
	bp := g.bufPool.Get().(*[]byte)
	buf := g.encode((*bp)[:0], ev)
	_, err := g.j.Append(ctx, buf)
	if cap(buf) <= 64<<10 {
		*bp = buf
		g.bufPool.Put(bp)
	}
	if err != nil {
		return logError(err)
	}
	g.logged.Add(1)
	return nil
}

// LogBatch records every valid event of evs with one journal write (one
// fsync under SyncAlways) and returns nil when all were recorded. When some
// are invalid it records the others and returns a *BatchError naming the
// refused ones by index. Any other error means none was recorded.
func (g *Gateway) LogBatch(ctx context.Context, evs []*Event) error {
	var bad map[int]error
	payloads := make([][]byte, 0, len(evs))
	for i, ev := range evs {
		if err := g.prepare(ev); err != nil {
			if bad == nil {
				bad = make(map[int]error)
			}
			bad[i] = err
			continue
		}
		payloads = append(payloads, g.encode(nil, ev))
	}
	if len(payloads) > 0 {
		g.closeMu.RLock()
		defer g.closeMu.RUnlock()
		if g.closed.Load() {
			return fmt.Errorf("eventgate: log: %w", ErrClosed)
		}
		if err := g.waitRoom(ctx); err != nil {
			return err
		}
		if _, err := g.j.Append(ctx, payloads...); err != nil {
			return logError(err)
		}
		g.logged.Add(uint64(len(payloads)))
	}
	if bad != nil {
		return &BatchError{Failed: bad}
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
	if err := checkMeta(ev.Meta); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidEvent, err)
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
