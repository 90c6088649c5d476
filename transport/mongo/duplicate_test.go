package mongo

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// A re-delivered event (same id) is accepted and stored once, by Send and by
// SendBatch, whatever the order of attempts.
func TestDuplicatesStoredOnce(t *testing.T) {
	srv := startServer(t)
	obs := newObserver(t, srv.uri())
	coll := uniq("dup_")
	tr, err := New(Config{URI: srv.uri(), Database: "eventgate_test", Collection: coll})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	evs := []*eventgate.Event{newEvent("s", 0), newEvent("s", 1), newEvent("s", 2), newEvent("s", 3)}
	for i := 0; i < 2; i++ {
		if err := tr.Send(ctx, evs[0]); err != nil {
			t.Fatalf("Send #%d of the same event: %v", i+1, err)
		}
	}
	// A batch repeating a stored event, and an event twice within itself.
	if err := tr.SendBatch(ctx, []*eventgate.Event{evs[0], evs[1], evs[1], evs[2]}); err != nil {
		t.Fatalf("SendBatch with duplicates: %v", err)
	}
	if err := tr.SendBatch(ctx, evs); err != nil {
		t.Fatalf("SendBatch repeated whole: %v", err)
	}
	got, err := obs.events(ctx, "eventgate_test", coll)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(evs) {
		t.Fatalf("%d documents stored, want %d (one per id)", len(got), len(evs))
	}
	if dups := testutil.CheckDelivered(t, got, evs); dups != 0 {
		t.Errorf("%d duplicates stored", dups)
	}
}

// One bad event in a batch fails alone, with its own permanent error; the
// rest are stored.
func TestBatchPartialFailure(t *testing.T) {
	srv := startServer(t)
	obs := newObserver(t, srv.uri())
	coll := uniq("partial_")
	tr, err := New(Config{URI: srv.uri(), Database: "eventgate_test", Collection: coll, MaxDocumentSize: 4096})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	good := []*eventgate.Event{newEvent("p", 0), newEvent("p", 1), newEvent("p", 2)}
	notJSON := newEvent("p", 3)
	notJSON.Data = []byte(`{"unterminated":`)
	tooBig := newEvent("p", 4)
	tooBig.Data = []byte(`"` + strings.Repeat("x", 5000) + `"`)
	batch := []*eventgate.Event{good[0], notJSON, good[1], tooBig, good[2]}
	err = tr.SendBatch(t.Context(), batch)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch: got %v, want a *eventgate.BatchError", err)
	}
	if len(be.Failed) != 2 || !errors.Is(be.Failed[1], eventgate.ErrSerialization) || !errors.Is(be.Failed[3], eventgate.ErrRejected) {
		t.Fatalf("BatchError.Failed = %v; want index 1 serialization, index 3 rejected", be.Failed)
	}
	got := testutil.AwaitEvents(t, func(ctx context.Context) ([]*eventgate.Event, error) {
		return obs.events(ctx, "eventgate_test", coll)
	}, good, 10*time.Second)
	if len(got) != len(good) {
		t.Errorf("%d documents stored, want %d", len(got), len(good))
	}
	testutil.CheckDelivered(t, got, good)
}
