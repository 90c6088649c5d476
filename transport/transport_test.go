package transport_test

// Helpers shared by the tests of Null, Callback, Log and File. The package's
// TestMain (goleak) is in main_test.go.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// leafEvent returns an ordinary event of session s.
func leafEvent(i int, s string) *eventgate.Event {
	return &eventgate.Event{
		ID:        fmt.Sprintf("ev-%06d", i),
		SessionID: s,
		Type:      "test.step",
		Time:      time.Date(2025, 5, 6, 7, 8, 9, 100200300+i, time.UTC),
		Data:      []byte(fmt.Sprintf(`{"i": %d, "text":"héllo"}`, i)),
		Meta:      eventgate.StringMeta(map[string]string{"k": "v"}),
	}
}

func leafEvents(n int, s string) []*eventgate.Event {
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		evs[i] = leafEvent(i, s)
	}
	return evs
}

// leafDecodeLines decodes JSON Lines of eventgate's event form.
func leafDecodeLines(tb testing.TB, data []byte) []*eventgate.Event {
	tb.Helper()
	var out []*eventgate.Event
	for n, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var ev eventgate.Event
		if err := json.Unmarshal(line, &ev); err != nil {
			tb.Fatalf("line %d is not an event: %v: %.200q", n+1, err, line)
		}
		out = append(out, &ev)
	}
	return out
}
