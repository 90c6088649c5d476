package eventgatetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// maxReported bounds how many field differences one check reports.
const maxReported = 10

// diffEvent lists every way got differs from want under the features f.
func diffEvent(f Features, got, want *eventgate.Event) []string {
	var diffs []string
	if got.ID != want.ID {
		diffs = append(diffs, fmt.Sprintf("ID: got %q, want %q", got.ID, want.ID))
	}
	if got.SessionID != want.SessionID {
		diffs = append(diffs, fmt.Sprintf("SessionID: got %q, want %q", got.SessionID, want.SessionID))
	}
	if got.Type != want.Type {
		diffs = append(diffs, fmt.Sprintf("Type: got %q, want %q", got.Type, want.Type))
	}
	if !timeMatches(f.TimePrecision, got, want) {
		if f.TimePrecision > 0 {
			diffs = append(diffs, fmt.Sprintf("Time: got %s, want %s within %v (off by %v)",
				got.Time.Format(timeLayout), want.Time.Format(timeLayout), f.TimePrecision, got.Time.Sub(want.Time)))
		} else {
			diffs = append(diffs, fmt.Sprintf("Time: got %s, want exactly %s (off by %v)",
				got.Time.Format(timeLayout), want.Time.Format(timeLayout), got.Time.Sub(want.Time)))
		}
	}
	if d := diffData(f.DataNormalized, got.Data, want.Data); d != "" {
		diffs = append(diffs, d)
	}
	if !f.NoMeta && !metaEqual(got.Meta, want.Meta) {
		diffs = append(diffs, fmt.Sprintf("Meta: got %s, want %s", metaString(got.Meta), metaString(want.Meta)))
	}
	return diffs
}

const timeLayout = "2006-01-02T15:04:05.999999999Z07:00"

func timeMatches(precision time.Duration, got, want *eventgate.Event) bool {
	if precision <= 0 {
		return got.Time.Equal(want.Time)
	}
	d := got.Time.Sub(want.Time)
	if d < 0 {
		d = -d
	}
	return d < precision
}

// normData treats empty Data as the JSON null it is recorded as.
func normData(b []byte) []byte {
	if len(bytes.TrimSpace(b)) == 0 {
		return []byte("null")
	}
	return b
}

func diffData(normalized bool, got, want []byte) string {
	g, w := normData(got), normData(want)
	if !normalized {
		if bytes.Equal(g, w) {
			return ""
		}
		return fmt.Sprintf("Data not byte for byte: got %s, want %s (first difference at byte %d)",
			excerpt(g), excerpt(w), firstDiff(g, w))
	}
	gv, gerr := decodeJSON(g)
	if gerr != nil {
		return fmt.Sprintf("Data is not valid JSON: %v; got %s", gerr, excerpt(g))
	}
	wv, _ := decodeJSON(w)
	if reflect.DeepEqual(gv, wv) {
		return ""
	}
	return fmt.Sprintf("Data not equivalent JSON: got %s, want %s", excerpt(g), excerpt(w))
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return normNumbers(v), nil
}

// normNumbers rewrites json.Number values to a canonical form so that 1.50
// and 1.5 compare equal when only JSON equivalence is required.
func normNumbers(v any) any {
	switch x := v.(type) {
	case json.Number:
		if f, err := strconv.ParseFloat(string(x), 64); err == nil {
			return f
		}
		return string(x)
	case map[string]any:
		for k, e := range x {
			x[k] = normNumbers(e)
		}
	case []any:
		for i, e := range x {
			x[i] = normNumbers(e)
		}
	}
	return v
}

func firstDiff(a, b []byte) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return i
		}
	}
	return n
}

func excerpt(b []byte) string {
	if len(b) > 120 {
		return fmt.Sprintf("%q… (%d bytes)", b[:120], len(b))
	}
	return fmt.Sprintf("%q", b)
}

// metaEqual reports whether a and b hold the same members with equal JSON
// values (numbers compared as float64, key order and spacing ignored); empty
// Meta and an empty object are equal. Sinks such as jsonb or BSON re-encode
// the object, so byte equality is not what they promise.
func metaEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, oka := metaValue(a)
	vb, okb := metaValue(b)
	return oka && okb && reflect.DeepEqual(va, vb)
}

func metaValue(b []byte) (map[string]any, bool) {
	if len(b) == 0 {
		return map[string]any{}, true
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, false
	}
	return m, true
}

func metaString(m []byte) string {
	if len(m) == 0 {
		return "{}"
	}
	return excerpt(m)
}

// checkDelivered reports, as test errors, every problem deliveryProblems finds.
func checkDelivered(t *testing.T, f Features, got, want []*eventgate.Event, sent map[string]bool, label func(i int) string) {
	t.Helper()
	if got == nil { // unobserved downstream (await succeeded, so want is empty otherwise)
		return
	}
	report(t, deliveryProblems(f, got, want, sent, label))
}

// checkOrder reports, as test errors, every problem orderProblems finds.
func checkOrder(t *testing.T, got, want []*eventgate.Event) {
	t.Helper()
	if got == nil {
		return
	}
	report(t, orderProblems(got, want))
}

func report(t *testing.T, problems []string) {
	t.Helper()
	for i, p := range problems {
		if i == maxReported {
			t.Errorf("… and %d more problems", len(problems)-maxReported)
			return
		}
		t.Error(p)
	}
}

// deliveryProblems lists every event of want that is missing from got or
// differs from its first occurrence there, and every event of got in one of
// want's sessions whose id was never sent. sent holds the ids of every event
// the check tried to send (nil = want's); label names an event of want.
func deliveryProblems(f Features, got, want []*eventgate.Event, sent map[string]bool, label func(i int) string) []string {
	var problems []string
	first := make(map[string]*eventgate.Event, len(want))
	for _, ev := range got {
		if ev == nil {
			problems = append(problems, "Fetch returned a nil event")
			continue
		}
		if _, ok := first[ev.ID]; !ok {
			first[ev.ID] = ev
		}
	}
	if sent == nil {
		sent = make(map[string]bool, len(want))
		for _, ev := range want {
			sent[ev.ID] = true
		}
	}
	sessions := make(map[string]bool)
	for _, ev := range want {
		sessions[ev.SessionID] = true
	}
	for i, w := range want {
		g, ok := first[w.ID]
		if !ok {
			problems = append(problems, fmt.Sprintf("%s (id %s, session %s): not delivered", label(i), w.ID, w.SessionID))
			continue
		}
		for _, d := range diffEvent(f, g, w) {
			problems = append(problems, fmt.Sprintf("%s (id %s): %s", label(i), w.ID, d))
		}
	}
	for _, ev := range got {
		if ev != nil && sessions[ev.SessionID] && !sent[ev.ID] {
			problems = append(problems, fmt.Sprintf("unexpected event downstream in session %s: id %q was never sent", ev.SessionID, ev.ID))
		}
	}
	return problems
}

// orderProblems reports each session of want whose events' first occurrences
// in got do not follow the order of want (one problem per session: the first
// inversion). Re-deliveries, later occurrences of an id, may be anywhere.
func orderProblems(got, want []*eventgate.Event) []string {
	pos := make(map[string]int, len(got))
	for i, ev := range got {
		if ev == nil {
			continue
		}
		if _, ok := pos[ev.ID]; !ok {
			pos[ev.ID] = i
		}
	}
	type last struct {
		idx int // index in want
		pos int // position in got
	}
	prev := make(map[string]last)
	bad := make(map[string]bool)
	var problems []string
	for i, w := range want {
		p, ok := pos[w.ID]
		if !ok || bad[w.SessionID] {
			continue
		}
		if l, seen := prev[w.SessionID]; seen && p < l.pos {
			bad[w.SessionID] = true
			problems = append(problems, fmt.Sprintf(
				"session %s out of order: event #%d (id %s) was sent after event #%d (id %s) but arrived before it (positions %d and %d)",
				w.SessionID, i, w.ID, l.idx, want[l.idx].ID, p, l.pos))
			continue
		}
		prev[w.SessionID] = last{idx: i, pos: p}
	}
	return problems
}
