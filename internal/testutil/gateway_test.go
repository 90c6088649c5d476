package testutil

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/eventgate/eventgate"
)

// recordingTransport accepts every event and records them, in order.
type recordingTransport struct {
	mu      sync.Mutex
	got     []*eventgate.Event
	batches int
}

func (r *recordingTransport) Send(_ context.Context, ev *eventgate.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, ev.Clone())
	return nil
}

func (r *recordingTransport) SendBatch(_ context.Context, evs []*eventgate.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.batches++
	for _, ev := range evs {
		r.got = append(r.got, ev.Clone())
	}
	return nil
}

func (r *recordingTransport) Close() error { return nil }

func TestGatewayHelpers(t *testing.T) {
	for _, batch := range []int{1, 10} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			tr := &recordingTransport{}
			gw, err := eventgate.Open(t.TempDir(), QuickRouteOptions("rec", tr, batch)...)
			if err != nil {
				t.Fatal(err)
			}
			defer gw.Close(context.Background())
			want := make([][]*eventgate.Event, 3)
			for s := range want {
				for i := range 20 {
					want[s] = append(want[s], &eventgate.Event{ID: eventgate.NewID(), SessionID: fmt.Sprintf("s%d", s), Type: "t", Data: []byte(fmt.Sprintf(`{"i":%d}`, i))})
				}
			}
			if err := <-LogRounds(t.Context(), gw, want); err != nil {
				t.Fatal(err)
			}
			WaitRoute(t, gw, "rec", "60 deliveries", func(s eventgate.RouteStats) bool { return s.Delivered >= 60 })
			tr.mu.Lock()
			got, batches := append([]*eventgate.Event(nil), tr.got...), tr.batches
			tr.mu.Unlock()
			if dups := CheckArrived(t, got, want); dups != 0 {
				t.Fatalf("%d duplicates", dups)
			}
			if (batch > 1) != (batches > 0) {
				t.Fatalf("batch %d: %d SendBatch calls", batch, batches)
			}
		})
	}
}
