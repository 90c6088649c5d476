package postgres

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

// row is one event in the table's column layout.
type row struct {
	eventID   string
	sessionID string
	typ       *string   // NULL when the event has no type
	ts        time.Time // stored to the microsecond
	data      []byte    // jsonb; nil when dataText holds the body
	dataText  *string   // the body, verbatim, when jsonb cannot hold it
	meta      []byte    // jsonb object; nil (NULL) when Meta is empty
}

func (r *row) args() []any {
	var data, meta any
	if r.data != nil {
		data = r.data
	}
	if r.meta != nil {
		meta = r.meta
	}
	return []any{r.eventID, r.sessionID, r.typ, r.ts, data, r.dataText, meta}
}

// errUnstorable is wrapped by every error toRow returns: the event can never
// be stored, whatever is retried.
var errUnstorable = errors.New("event cannot be stored")

// toRow maps ev to a row, or explains why PostgreSQL can never store it.
//
// Text columns cannot hold NUL characters or invalid UTF-8, and an empty
// event id would make every id-less event a duplicate of the first, so those
// are refused. Data must be valid JSON (empty Data is stored as JSON null).
// jsonb refuses two things valid JSON may hold, the escape \u0000 and
// unpaired UTF-16 surrogate escapes (\ud800 alone); such Data is stored
// verbatim in data_text, with data NULL, instead of being refused. Meta is
// stored as the jsonb object given, its values typed; Meta that jsonb cannot
// hold (\u0000, unpaired surrogate escapes) is refused.
func toRow(ev *eventgate.Event) (row, error) {
	r := row{eventID: ev.ID, sessionID: ev.SessionID, ts: ev.Time}
	if ev.ID == "" {
		return r, fmt.Errorf("%w: empty id", errUnstorable)
	}
	if err := textOK("id", ev.ID); err != nil {
		return r, err
	}
	if err := textOK("session id", ev.SessionID); err != nil {
		return r, err
	}
	if ev.Type != "" {
		if err := textOK("type", ev.Type); err != nil {
			return r, err
		}
		typ := ev.Type
		r.typ = &typ
	}
	switch {
	case len(ev.Data) == 0:
		r.data = []byte("null")
	case !utf8.Valid(ev.Data):
		return r, fmt.Errorf("%w: data is not valid UTF-8", errUnstorable)
	case ev.CheckData() != nil:
		return r, fmt.Errorf("%w: data is not valid JSON", errUnstorable)
	case jsonbRefuses(ev.Data):
		s := string(ev.Data)
		r.dataText = &s
	default:
		r.data = ev.Data
	}
	if len(ev.Meta) > 0 {
		if err := ev.CheckMeta(); err != nil {
			return r, fmt.Errorf("%w: %w", errUnstorable, err)
		}
		if jsonbRefuses(ev.Meta) {
			return r, fmt.Errorf("%w: meta holds \\u0000 or an unpaired surrogate escape, which jsonb cannot store", errUnstorable)
		}
		r.meta = ev.Meta
	}
	return r, nil
}

// textOK checks that s can be stored in a text column.
func textOK(what, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fmt.Errorf("%w: %s holds a NUL character", errUnstorable, what)
	}
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", errUnstorable, what)
	}
	return nil
}

// jsonbRefuses reports whether the valid JSON text b holds a string escape
// that jsonb cannot store: \u0000, or a surrogate escape that is not part of
// a high-low pair.
func jsonbRefuses(b []byte) bool {
	if !bytes.Contains(b, []byte(`\u`)) {
		return false
	}
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				v, ok := hex4(b, i+2)
				if !ok {
					return false // not valid JSON; json.Valid said otherwise
				}
				switch {
				case v == 0:
					return true
				case v >= 0xDC00 && v <= 0xDFFF:
					return true // low surrogate without a high one
				case v >= 0xD800 && v <= 0xDBFF:
					lo, ok := -1, false
					if i+11 < len(b) && b[i+6] == '\\' && b[i+7] == 'u' {
						var u int
						u, ok = hex4(b, i+8)
						lo = u
					}
					if !ok || lo < 0xDC00 || lo > 0xDFFF {
						return true // high surrogate without a low one
					}
					i += 6 // the low half is consumed with this escape
				}
				i += 5
			} else {
				i++ // skip the escaped character
			}
		}
	}
	return false
}

// hex4 decodes the four hex digits at b[i:i+4].
func hex4(b []byte, i int) (int, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= int(c - '0')
		case c >= 'a' && c <= 'f':
			v |= int(c-'a') + 10
		case c >= 'A' && c <= 'F':
			v |= int(c-'A') + 10
		default:
			return 0, false
		}
	}
	return v, true
}
