package gcplogging

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakegcplogging"
)

func TestSendBatchSplitting(t *testing.T) {
	padded := func(n, pad int) []*eventgate.Event {
		evs := make([]*eventgate.Event, n)
		for i := range evs {
			evs[i] = testEvent("s", i)
			evs[i].Data = []byte(`{"pad":"` + strings.Repeat("p", pad) + `"}`)
		}
		return evs
	}
	tests := []struct {
		name  string
		mod   func(*Config)
		evs   []*eventgate.Event
		calls []int
	}{
		{"one call", nil, padded(10, 10), []int{10}},
		{"1,000 entries per call", nil, padded(2500, 10), []int{1000, 1000, 500}},
		{"bytes bind: 10 MB requests", nil, padded(100, 250_000), []int{39, 39, 22}},
		{"configured entry limit", func(c *Config) { c.MaxBatchEntries = 3 }, padded(7, 10), []int{3, 3, 1}},
		{"configured byte limit", func(c *Config) { c.MaxRequestBytes = 3000 }, padded(5, 1000), []int{2, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakegcplogging.Start(t)
			logID := newLog()
			tr := newTransport(t, srv, logID, tt.mod)
			if err := tr.SendBatch(t.Context(), tt.evs); err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			var calls []int
			for _, r := range srv.Requests() {
				calls = append(calls, r.Entries)
				if !r.PartialSuccess {
					t.Error("a batch request without partial_success")
				}
				if r.Bytes > fakegcplogging.MaxRequestBytes {
					t.Errorf("request of %d bytes", r.Bytes)
				}
			}
			if !slices.Equal(calls, tt.calls) {
				t.Errorf("calls carried %v entries; want %v", calls, tt.calls)
			}
			entries := srv.Entries(tr.LogName())
			if len(entries) != len(tt.evs) {
				t.Fatalf("server holds %d entries; want %d", len(entries), len(tt.evs))
			}
			for i, e := range entries {
				if e.InsertId != tt.evs[i].ID {
					t.Fatalf("entry %d is %s; want %s (order kept)", i, e.InsertId, tt.evs[i].ID)
				}
			}
		})
	}
}

// TestSendBatchPartialErrors: under partial_success the server writes the
// valid entries and reports the others per index; each failed event gets
// the kind of its own status.
func TestSendBatchPartialErrors(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	tr := newTransport(t, srv, logID, nil)
	srv.SetEntryFault(func(e *loggingpb.LogEntry) *status.Status {
		switch e.Labels["i"] {
		case "2":
			return status.New(codes.PermissionDenied, "not allowed")
		case "4":
			return status.New(codes.Unavailable, "try later")
		}
		return nil
	})
	evs := make([]*eventgate.Event, 6)
	for i := range evs {
		evs[i] = testEvent("s", i)
	}
	big := testEvent("s", 99)
	big.Data = []byte(`{"pad":"` + strings.Repeat("p", 300_000) + `"}`)
	evs = append(evs, big) // refused before sending
	err := tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch = %v; want a BatchError", err)
	}
	if e := be.ErrorAt(2); !errors.Is(e, eventgate.ErrUnavailable) {
		t.Errorf("event 2 (PermissionDenied): %v; want KindUnavailable", e)
	}
	if e := be.ErrorAt(4); !errors.Is(e, eventgate.ErrConnection) {
		t.Errorf("event 4 (Unavailable): %v; want KindConnection", e)
	}
	if e := be.ErrorAt(6); !errors.Is(e, eventgate.ErrRejected) {
		t.Errorf("oversized event 6: %v; want KindUnavailable", e)
	}
	if len(be.Failed) != 3 {
		t.Errorf("%d failures; want 3: %v", len(be.Failed), be)
	}
	if n := len(srv.Entries(tr.LogName())); n != 4 {
		t.Errorf("server holds %d entries; want the 4 valid ones", n)
	}
}

// TestSendBatchWholeFailure: a call refused as a whole fails its events and
// holds back the later calls.
func TestSendBatchWholeFailure(t *testing.T) {
	srv := fakegcplogging.Start(t)
	logID := newLog()
	tr := newTransport(t, srv, logID, func(c *Config) { c.MaxBatchEntries = 4 })
	evs := make([]*eventgate.Event, 10)
	for i := range evs {
		evs[i] = testEvent("s", i)
	}
	srv.FailNext(1, fakegcplogging.Fault{Code: codes.Unavailable})
	err := tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if errors.As(err, &be) || !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("first call failing: %v; want its own KindConnection error", err)
	}
	srv.FailAfter(1, 1, fakegcplogging.Fault{Code: codes.ResourceExhausted, RetryAfter: 3 * time.Second})
	err = tr.SendBatch(t.Context(), evs)
	if !errors.As(err, &be) {
		t.Fatalf("second call failing: %v; want a BatchError", err)
	}
	for i := range evs {
		e := be.ErrorAt(i)
		switch {
		case i < 4 && e != nil:
			t.Errorf("event %d: %v; want accepted", i, e)
		case i >= 4 && i < 8 && !errors.Is(e, eventgate.ErrThrottled):
			t.Errorf("event %d: %v; want KindThrottled", i, e)
		case i >= 8 && (e == nil || !eventgate.Retryable(e)):
			t.Errorf("event %d: %v; want a retryable not-sent error", i, e)
		}
	}
	if d, ok := eventgate.RetryAfterHint(be.ErrorAt(5)); !ok || d != 3*time.Second {
		t.Errorf("RetryAfter hint %v %v; want 3s from the RetryInfo detail", d, ok)
	}
}
