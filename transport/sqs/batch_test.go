package sqs

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
)

// TestSendBatchSplitting proves, against a server that refuses requests over
// SQS's limits (more than 10 entries, more than 262,144 bytes in all), that
// SendBatch cuts its input into valid requests.
func TestSendBatchSplitting(t *testing.T) {
	const limit = DefaultMaxMessageBytes
	tests := []struct {
		name  string
		sizes []int // message size of each event (0 = a small ordinary event)
		want  []int // entries per SendMessageBatch request
	}{
		{name: "one event", sizes: make([]int, 1), want: []int{1}},
		{name: "ten events fill one request", sizes: make([]int, 10), want: []int{10}},
		{name: "eleven events need two", sizes: make([]int, 11), want: []int{10, 1}},
		{name: "twenty-five events", sizes: make([]int, 25), want: []int{10, 10, 5}},
		{name: "two halves fit exactly", sizes: []int{limit / 2, limit / 2}, want: []int{2}},
		{name: "one byte over the total", sizes: []int{limit / 2, limit/2 + 1}, want: []int{1, 1}},
		{name: "large events by bytes", sizes: []int{100000, 100000, 100000, 100000, 100000}, want: []int{2, 2, 1}},
		{name: "a full-size message alone", sizes: []int{limit, 0, 0}, want: []int{1, 2}},
		{name: "bytes bind before count", sizes: []int{30000, 30000, 30000, 30000, 30000, 30000, 30000, 30000, 30000, 30000}, want: []int{8, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := fakeaws.StartSQS(t)
			q := newQueue(t, srv, false)
			tr := newTransport(t, srv, q, nil)
			if err := tr.Connect(t.Context()); err != nil {
				t.Fatal(err)
			}
			evs := make([]*eventgate.Event, len(tt.sizes))
			for i, size := range tt.sizes {
				if size == 0 {
					evs[i] = testEvent("s", i)
				} else {
					evs[i] = sizedEvent(t, tr, "s", size)
				}
			}
			if err := tr.SendBatch(t.Context(), evs); err != nil {
				t.Fatalf("SendBatch: %v", err)
			}
			if got := srv.BatchSizes(); !slices.Equal(got, tt.want) {
				t.Errorf("requests carried %v entries; want %v", got, tt.want)
			}
			msgs := srv.Messages(q)
			if len(msgs) != len(evs) {
				t.Fatalf("queue holds %d messages; want %d", len(msgs), len(evs))
			}
			for i, m := range msgs {
				if v, _ := attrString(m, "event_id"); v != evs[i].ID {
					t.Fatalf("message %d is event %s; want %s (order kept)", i, v, evs[i].ID)
				}
			}
		})
	}
}

// TestSplitBatchAtLimits checks the splitter alone at its boundaries.
func TestSplitBatchAtLimits(t *testing.T) {
	mk := func(sizes ...int) []batchEntry {
		out := make([]batchEntry, len(sizes))
		for i, s := range sizes {
			out[i] = batchEntry{index: i, msg: message{size: s}}
		}
		return out
	}
	count := func(chunks [][]batchEntry) []int {
		var n []int
		for _, c := range chunks {
			n = append(n, len(c))
		}
		return n
	}
	if got := count(splitBatch(nil, 10, 100)); got != nil {
		t.Errorf("empty input: %v; want no chunks", got)
	}
	if got := count(splitBatch(mk(50, 50), 10, 100)); !slices.Equal(got, []int{2}) {
		t.Errorf("50+50 within 100: %v; want [2]", got)
	}
	if got := count(splitBatch(mk(50, 51), 10, 100)); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("50+51 over 100: %v; want [1 1]", got)
	}
	if got := count(splitBatch(mk(1, 1, 1, 1), 3, 100)); !slices.Equal(got, []int{3, 1}) {
		t.Errorf("count limit 3: %v; want [3 1]", got)
	}
}

// TestSendBatchOversizedEvent: an event that can never be sent fails alone.
func TestSendBatchOversizedEvent(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	if err := tr.Connect(t.Context()); err != nil {
		t.Fatal(err)
	}
	evs := []*eventgate.Event{testEvent("s", 0), sizedEvent(t, tr, "s", DefaultMaxMessageBytes+1), testEvent("s", 2)}
	err := tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch = %v; want a *BatchError", err)
	}
	if len(be.Failed) != 1 || !errors.Is(be.ErrorAt(1), eventgate.ErrRejected) {
		t.Fatalf("failures %v; want only event 1, rejected", be.Failed)
	}
	if n := len(srv.Messages(q)); n != 2 {
		t.Errorf("queue holds %d messages; want the 2 valid events", n)
	}
}

// TestSendBatchEntryFailures maps SQS's per-entry failures: sender faults are
// permanent, others retryable, and after a retryable failure the later
// requests are held back so that a retry keeps each session's order.
func TestSendBatchEntryFailures(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	srv.SetEntryFault(func(e fakeaws.EntryInfo) *fakeaws.EntryFault {
		switch {
		case strings.Contains(e.Body, `"i":3}`):
			return &fakeaws.EntryFault{Code: "InvalidParameterValue", SenderFault: true, Message: "bad entry"}
		case strings.Contains(e.Body, `"i":12}`):
			return &fakeaws.EntryFault{Code: "InternalError", SenderFault: false, Message: "try again"}
		case strings.Contains(e.Body, `"i":14}`):
			return &fakeaws.EntryFault{Code: "RequestThrottled", SenderFault: true, Message: "slow down"}
		}
		return nil
	})
	evs := make([]*eventgate.Event, 25)
	for i := range evs {
		evs[i] = testEvent("s", i)
	}
	err := tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch = %v; want a *BatchError", err)
	}
	if e := be.ErrorAt(3); !errors.Is(e, eventgate.ErrRejected) || !eventgate.Permanent(e) {
		t.Errorf("event 3 (sender fault): %v; want permanent KindRejected", e)
	}
	if e := be.ErrorAt(12); e == nil || !eventgate.Retryable(e) || errors.Is(e, eventgate.ErrRejected) {
		t.Errorf("event 12 (service fault): %v; want retryable", e)
	}
	if e := be.ErrorAt(14); !errors.Is(e, eventgate.ErrThrottled) {
		t.Errorf("event 14 (throttled): %v; want KindThrottled", e)
	}
	for i := 20; i < 25; i++ { // third request: held back after event 12's retryable failure
		if e := be.ErrorAt(i); e == nil || !eventgate.Retryable(e) {
			t.Errorf("event %d: %v; want a retryable not-sent error", i, e)
		}
	}
	if len(be.Failed) != 3+5 {
		t.Errorf("%d events failed; want 8: %v", len(be.Failed), be)
	}
	if got := srv.BatchSizes(); !slices.Equal(got, []int{10, 10}) {
		t.Errorf("requests %v; want [10 10] (the third held back)", got)
	}
	if n := len(srv.Messages(q)); n != 25-8 {
		t.Errorf("queue holds %d messages; want 17", n)
	}
}

// TestSendBatchWholeRequestFailure: when the first request fails as a whole,
// SendBatch returns that error itself; when a later one does, a BatchError
// names exactly the events not accepted.
func TestSendBatchWholeRequestFailure(t *testing.T) {
	srv := fakeaws.StartSQS(t)
	q := newQueue(t, srv, false)
	tr := newTransport(t, srv, q, nil)
	evs := make([]*eventgate.Event, 15)
	for i := range evs {
		evs[i] = testEvent("s", i)
	}
	srv.FailNext("SendMessageBatch", 1, fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"})
	err := tr.SendBatch(t.Context(), evs)
	var be *eventgate.BatchError
	if errors.As(err, &be) || !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("first request failing: %v; want the request's KindConnection error, not a BatchError", err)
	}
	srv.FailAfter("SendMessageBatch", 1, 1, fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"})
	err = tr.SendBatch(t.Context(), evs)
	if !errors.As(err, &be) {
		t.Fatalf("second request failing: %v; want a *BatchError", err)
	}
	for i := range evs {
		if e := be.ErrorAt(i); (i >= 10) != (e != nil) || e != nil && !errors.Is(e, eventgate.ErrConnection) {
			t.Errorf("event %d: error %v; want KindConnection failures for exactly events 10-14", i, e)
		}
	}
	if n := len(srv.Messages(q)); n != 10 {
		t.Errorf("queue holds %d messages; want the first request's 10", n)
	}
}
