package eventgatetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// Fetch returns every event the downstream has received from the transport under
// test so far, in the order the downstream stored them. It is called after Sends
// returned (and after Close), and may be called many times.
type Fetch func(ctx context.Context) ([]*eventgate.Event, error)

// Harness tells the suite how to make and observe the transport under test.
type Harness struct {
	// New returns a fresh transport for one subtest (not yet connected), and the
	// Fetch that observes what its downstream received. The suite closes the
	// transport; New registers any other cleanup with t.Cleanup.
	New      func(t testing.TB) (eventgate.Transport, Fetch)
	Features Features
}

// Features declares what the system under test cannot do, so the suite skips or
// relaxes exactly those checks.
type Features struct {
	Unordered       bool          // per-session order of sequential Sends is not preserved
	NoMeta          bool          // Meta is not carried
	DataNormalized  bool          // Data comes back as equivalent JSON, not the same bytes (e.g. jsonb)
	TimePrecision   time.Duration // Time comes back truncated to this (0 = exact)
	MaxDataSize     int           // largest Data the system accepts (0 = at least 1 MiB)
	ConcurrentSends int           // number of sends in the concurrency check (0 = 10,000)
}

const (
	defaultMaxDataSize     = 1 << 20
	defaultConcurrentSends = 10_000
	// fetchTimeout bounds how long the suite waits for sent events to appear
	// downstream; larger checks add fetchTimeoutPer1000 per thousand events.
	fetchTimeout        = 20 * time.Second
	fetchTimeoutPer1000 = time.Second
	// hangTimeout bounds a single call that must return promptly (Send with a
	// cancelled context, Close). It only guards against hangs.
	hangTimeout = 30 * time.Second
)

func (f Features) maxDataSize() int {
	if f.MaxDataSize > 0 {
		return f.MaxDataSize
	}
	return defaultMaxDataSize
}

func (f Features) concurrentSends() int {
	if f.ConcurrentSends > 0 {
		return f.ConcurrentSends
	}
	return defaultConcurrentSends
}

// TestTransport runs the conformance suite against the transport h makes. Each
// check is a subtest with its own transport from h.New, so a failure names the
// behaviour that broke:
//
//   - SendOne: one event arrives with every field intact (Send without a
//     prior Connect must connect lazily).
//   - Fields: ID, SessionID, Type, Time (to Features.TimePrecision), Data
//     (byte for byte unless Features.DataNormalized) and Meta (unless
//     Features.NoMeta) survive, for a spread of values.
//   - EdgeCases: null and empty Data, non-ASCII text in Data, Meta and Type,
//     empty and nil Meta, JSON escapes.
//   - LargeData: Data of Features.MaxDataSize bytes (default 1 MiB).
//   - SessionOrder: sequential Sends over interleaved sessions arrive in
//     per-session order (unless Features.Unordered).
//   - ConcurrentSends: Features.ConcurrentSends sends from many goroutines all
//     arrive at least once, each goroutine's session in order.
//   - SendBatch: when the transport is an eventgate.BatchSender, a batch over
//     several sessions arrives whole and in per-session order; an empty batch
//     is accepted.
//   - Connect: when the transport is an eventgate.Connector, Connect is
//     idempotent and safe to call concurrently.
//   - CancelledContext: Send (and SendBatch) with a cancelled context
//     returns an error promptly (matching context.Canceled or an
//     *eventgate.TransportError; a batch may instead fail every event with
//     such an error in an *eventgate.BatchError), and the transport still
//     works afterwards.
//   - CloseFlushes: events whose Send returned nil are downstream after Close.
//   - CloseThenSend: after Close, Send (and SendBatch) return an error
//     matching eventgate.ErrClosed; a second Close returns nil.
//   - CloseUnused: closing a transport that never sent returns nil.
//   - CloseDuringSends: Close racing with Sends neither panics nor loses an
//     event whose Send returned nil.
//
// Where events arrive asynchronously, the suite polls Fetch until every
// expected event is present or a deadline passes. Events the downstream
// holds that the subtest did not send are ignored, so a Fetch may return
// more than one subtest's events.
func TestTransport(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("eventgatetest: Harness.New is nil")
	}
	s := &suite{h: h, f: h.Features}
	s.run(t)
}

func (s *suite) run(t *testing.T) {
	t.Run("SendOne", s.testSendOne)
	t.Run("Fields", s.testFields)
	t.Run("EdgeCases", s.testEdgeCases)
	t.Run("LargeData", s.testLargeData)
	t.Run("SessionOrder", s.testSessionOrder)
	t.Run("ConcurrentSends", s.testConcurrentSends)
	t.Run("SendBatch", s.testSendBatch)
	t.Run("Connect", s.testConnect)
	t.Run("CancelledContext", s.testCancelledContext)
	t.Run("CloseFlushes", s.testCloseFlushes)
	t.Run("CloseThenSend", s.testCloseThenSend)
	t.Run("CloseUnused", s.testCloseUnused)
	t.Run("CloseDuringSends", s.testCloseDuringSends)
}

type suite struct {
	h          Harness
	f          Features
	unobserved bool // the downstream cannot be read back: Fetch is nil
}

// TestUnobserved runs the checks of TestTransport that need no view of the
// downstream, for transports whose deliveries cannot be read back (a
// discarding transport, a wrapper tested on its own). Every Send the suite
// makes must still succeed or fail exactly as TestTransport requires, but
// nothing is fetched, so delivery, fields and order go unchecked. Prefer
// TestTransport whenever the downstream can be observed.
func TestUnobserved(t *testing.T, newTransport func(t testing.TB) eventgate.Transport, f Features) {
	t.Helper()
	if newTransport == nil {
		t.Fatal("eventgatetest: TestUnobserved: newTransport is nil")
	}
	h := Harness{Features: f, New: func(t testing.TB) (eventgate.Transport, Fetch) { return newTransport(t), nil }}
	s := &suite{h: h, f: f, unobserved: true}
	s.run(t)
}

// open makes a fresh transport and arranges for it to be closed when the
// subtest ends (Close is idempotent, so subtests may close it earlier).
func (s *suite) open(t *testing.T) (eventgate.Transport, Fetch) {
	t.Helper()
	tr, fetch := s.h.New(t)
	if tr == nil {
		t.Fatal("eventgatetest: Harness.New returned a nil transport")
	}
	if fetch == nil && !s.unobserved {
		t.Fatal("eventgatetest: Harness.New returned a nil Fetch")
	}
	t.Cleanup(func() {
		if err := closeWithin(tr, hangTimeout); err != nil {
			t.Errorf("Close at the end of the subtest: %v", err)
		}
	})
	return tr, fetch
}

// closeWithin calls tr.Close and reports an error if it does not return in d.
func closeWithin(tr eventgate.Transport, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- tr.Close() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return fmt.Errorf("Close did not return within %v", d)
	}
}

// send sends every event in order and fails the test at the first error.
func send(t *testing.T, ctx context.Context, tr eventgate.Transport, evs ...*eventgate.Event) {
	t.Helper()
	for i, ev := range evs {
		if err := tr.Send(ctx, ev); err != nil {
			t.Fatalf("Send of event %d/%d (id %s): %v", i+1, len(evs), ev.ID, err)
		}
	}
}

// await polls fetch until every event of want is present, and returns the
// last fetched list. It fails the test, naming the missing ids, when the
// deadline passes first. Without a fetch (TestUnobserved) it returns nil at
// once, and the checks given nil check nothing.
func await(t *testing.T, ctx context.Context, fetch Fetch, want []*eventgate.Event) []*eventgate.Event {
	t.Helper()
	if fetch == nil {
		return nil
	}
	timeout := fetchTimeout + time.Duration(len(want)/1000)*fetchTimeoutPer1000
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	pending := make(map[string]bool, len(want))
	for _, ev := range want {
		pending[ev.ID] = true
	}
	var (
		got     []*eventgate.Event
		lastErr error
		fetches int
	)
	wait := 5 * time.Millisecond
	for {
		fetches++
		evs, err := fetch(ctx)
		if err != nil {
			lastErr = err
		} else {
			got = evs
			missing := 0
			seen := make(map[string]bool, len(evs))
			for _, ev := range evs {
				if ev != nil {
					seen[ev.ID] = true
				}
			}
			for id := range pending {
				if !seen[id] {
					missing++
				}
			}
			if missing == 0 {
				return got
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			reportMissing(t, want, got, lastErr, fetches, timeout)
			return nil
		case <-timer.C:
		}
		wait = min(wait*2, 200*time.Millisecond)
	}
}

func reportMissing(t *testing.T, want, got []*eventgate.Event, lastErr error, fetches int, timeout time.Duration) {
	t.Helper()
	seen := make(map[string]bool, len(got))
	for _, ev := range got {
		if ev != nil {
			seen[ev.ID] = true
		}
	}
	var missing []string
	for i, ev := range want {
		if !seen[ev.ID] {
			missing = append(missing, fmt.Sprintf("#%d %s (session %s)", i, ev.ID, ev.SessionID))
		}
	}
	shown := missing
	if len(shown) > 10 {
		shown = shown[:10]
	}
	msg := fmt.Sprintf("after %v and %d fetches, %d of %d sent events are missing downstream (fetch returned %d events); first missing: %v",
		timeout, fetches, len(missing), len(want), len(got), shown)
	if lastErr != nil {
		msg += fmt.Sprintf("; last Fetch error: %v", lastErr)
	}
	t.Fatal(msg)
}
