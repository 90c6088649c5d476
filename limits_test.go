package eventgate

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// Issue 12, scenarios 6 and 7 at the library: meta counts toward the event
// size limit, a batch refuses only the oversized event, and data that is not
// UTF-8 is refused.
func TestLogLimits(t *testing.T) {
	const limit = 4 << 10
	gw, err := Open(t.TempDir(), WithMaxEventSize(limit))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	ctx := context.Background()
	big := StringMeta(map[string]string{"m": strings.Repeat("x", 2*limit)})
	if err := gw.Log(ctx, &Event{SessionID: "s", Type: "t", Data: json.RawMessage(`1`), Meta: big}); !errors.Is(err, ErrEventTooLarge) {
		t.Fatalf("meta over the limit: %v, want ErrEventTooLarge", err)
	}
	evs := make([]*Event, 10)
	for i := range evs {
		evs[i] = &Event{SessionID: "s", Type: "t", Data: json.RawMessage(`1`)}
	}
	evs[4].Meta = big
	err = gw.LogBatch(ctx, evs)
	var be *BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.Failed[4], ErrEventTooLarge) {
		t.Fatalf("batch with one oversized meta: %v, want a BatchError for item 4 only", err)
	}
	if err := gw.Log(ctx, &Event{SessionID: "s", Type: "t", Data: json.RawMessage("\"\xff\"")}); !errors.Is(err, ErrInvalidEvent) {
		t.Fatalf("data not UTF-8: %v, want ErrInvalidEvent", err)
	}
	if err := gw.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := gw.Events(ctx, "s", EventFilter{})
	if err != nil || len(got) != 9 {
		t.Fatalf("recorded %d events (%v), want 9", len(got), err)
	}
}
