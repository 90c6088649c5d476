package eventgatetest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func recorderHarness(opts ...RecorderOption) Harness {
	return Harness{New: func(testing.TB) (eventgate.Transport, Fetch) {
		r := NewRecorder(opts...)
		return r.Transport(), r.Fetch
	}}
}

func TestRecorderConformance(t *testing.T) {
	TestTransport(t, recorderHarness())
}

func TestRecorderWithoutBatchConformance(t *testing.T) {
	TestTransport(t, recorderHarness(WithBatch(false)))
}

func TestFlakyConformance(t *testing.T) {
	TestTransport(t, Harness{New: func(testing.TB) (eventgate.Transport, Fetch) {
		r := NewRecorder()
		return NewFlaky(r, WithPattern("ok")), r.Fetch
	}})
}

// retrying resends after retryable failures, as a delivery pipeline would.
// With a failing Flaky under it, it must still pass the suite.
type retrying struct{ f *Flaky }

func (r retrying) retry(ctx context.Context, call func() error) error {
	for attempt := 0; ; attempt++ {
		err := call()
		if err == nil || !eventgate.Retryable(err) || ctx.Err() != nil || attempt == 100 {
			return err
		}
	}
}

func (r retrying) Send(ctx context.Context, ev *eventgate.Event) error {
	return r.retry(ctx, func() error { return r.f.Send(ctx, ev) })
}

func (r retrying) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	return r.retry(ctx, func() error { return r.f.SendBatch(ctx, evs) })
}

func (r retrying) Connect(ctx context.Context) error { return r.f.Connect(ctx) }
func (r retrying) Close() error                      { return r.f.Close() }

func TestFlakyUnderRetryConformance(t *testing.T) {
	for _, deliver := range []bool{false, true} {
		name := "lost"
		if deliver {
			name = "delivered" // failures after delivery: retries duplicate events
		}
		t.Run(name, func(t *testing.T) {
			TestTransport(t, Harness{New: func(testing.TB) (eventgate.Transport, Fetch) {
				r := NewRecorder()
				f := NewFlaky(r, WithPattern("fail,ok,fail,fail,ok"), WithDeliverOnFail(deliver))
				return retrying{f}, r.Fetch
			}})
		})
	}
}

func ev(id, session string) *eventgate.Event {
	return &eventgate.Event{
		ID: id, SessionID: session, Type: "t",
		Time: time.Date(2025, 1, 2, 3, 4, 5, 600700800, time.UTC),
		Data: []byte(`{"a": 1.50}`), Meta: eventgate.StringMeta(map[string]string{"k": "v"}),
	}
}

func TestDiffEvent(t *testing.T) {
	base := ev("1", "s")
	tests := []struct {
		name string
		f    Features
		mod  func(e *eventgate.Event)
		want string // substring of the one expected difference; "" = none
	}{
		{"identical", Features{}, func(*eventgate.Event) {}, ""},
		{"id", Features{}, func(e *eventgate.Event) { e.ID = "2" }, "ID:"},
		{"session", Features{}, func(e *eventgate.Event) { e.SessionID = "x" }, "SessionID:"},
		{"type", Features{}, func(e *eventgate.Event) { e.Type = "" }, "Type:"},
		{"same instant other zone", Features{}, func(e *eventgate.Event) { e.Time = e.Time.In(time.FixedZone("z", 3600)) }, ""},
		{"time off by 1ns", Features{}, func(e *eventgate.Event) { e.Time = e.Time.Add(time.Nanosecond) }, "Time:"},
		{"time truncated to µs, allowed", Features{TimePrecision: time.Microsecond}, func(e *eventgate.Event) { e.Time = e.Time.Truncate(time.Microsecond) }, ""},
		{"time truncated to ms, µs allowed", Features{TimePrecision: time.Microsecond}, func(e *eventgate.Event) { e.Time = e.Time.Truncate(time.Millisecond) }, "Time:"},
		{"data respaced", Features{}, func(e *eventgate.Event) { e.Data = []byte(`{"a":1.50}`) }, "byte for byte"},
		{"data respaced, normalized allowed", Features{DataNormalized: true}, func(e *eventgate.Event) { e.Data = []byte(`{"a":1.5}`) }, ""},
		{"data changed, normalized allowed", Features{DataNormalized: true}, func(e *eventgate.Event) { e.Data = []byte(`{"a":2}`) }, "equivalent JSON"},
		{"data invalid, normalized allowed", Features{DataNormalized: true}, func(e *eventgate.Event) { e.Data = []byte(`{"a":`) }, "not valid JSON"},
		{"meta lost", Features{}, func(e *eventgate.Event) { e.Meta = nil }, "Meta:"},
		{"meta lost, NoMeta", Features{NoMeta: true}, func(e *eventgate.Event) { e.Meta = nil }, ""},
		{"meta value", Features{}, func(e *eventgate.Event) { e.Meta = eventgate.StringMeta(map[string]string{"k": "w"}) }, "Meta:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := base.Clone()
			tt.mod(got)
			diffs := diffEvent(tt.f, got, base)
			switch {
			case tt.want == "" && len(diffs) > 0:
				t.Errorf("unexpected differences: %q", diffs)
			case tt.want != "" && (len(diffs) != 1 || !strings.Contains(diffs[0], tt.want)):
				t.Errorf("differences %q; want one containing %q", diffs, tt.want)
			}
		})
	}
}

func TestDiffEventEmptyDataIsNull(t *testing.T) {
	for _, pair := range [][2]string{{"", "null"}, {"null", ""}, {"", ""}} {
		got, want := ev("1", "s"), ev("1", "s")
		got.Data, want.Data = []byte(pair[0]), []byte(pair[1])
		if d := diffEvent(Features{}, got, want); len(d) > 0 {
			t.Errorf("data %q vs %q: %q", pair[0], pair[1], d)
		}
	}
}

func TestDeliveryProblems(t *testing.T) {
	a, b, c := ev("a", "s"), ev("b", "s"), ev("c", "s")
	want := []*eventgate.Event{a, b, c}
	changed := b.Clone()
	changed.Type = "other"
	stranger := ev("zzz", "s")
	other := ev("zzz", "other-session")
	tests := []struct {
		name string
		got  []*eventgate.Event
		want []string
	}{
		{"all there", []*eventgate.Event{a, b, c}, nil},
		{"duplicates allowed", []*eventgate.Event{a, a, b, c, b}, nil},
		{"foreign sessions ignored", []*eventgate.Event{other, a, b, c}, nil},
		{"missing", []*eventgate.Event{a, c}, []string{"#1 (id b, session s): not delivered"}},
		{"changed field", []*eventgate.Event{a, changed, c}, []string{`#1 (id b): Type: got "other", want "t"`}},
		{"first occurrence compared", []*eventgate.Event{a, changed, b, c}, []string{"Type:"}},
		{"stranger in session", []*eventgate.Event{a, b, stranger, c}, []string{`id "zzz" was never sent`}},
		{"nil event", []*eventgate.Event{a, nil, b, c}, []string{"nil event"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := deliveryProblems(Features{}, tt.got, want, nil, nameOf)
			if len(got) != len(tt.want) {
				t.Fatalf("problems %q; want %d", got, len(tt.want))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.want[i]) {
					t.Errorf("problem %q; want it to contain %q", got[i], tt.want[i])
				}
			}
		})
	}
}

func TestOrderProblems(t *testing.T) {
	a1, a2, a3 := ev("a1", "a"), ev("a2", "a"), ev("a3", "a")
	b1, b2 := ev("b1", "b"), ev("b2", "b")
	want := []*eventgate.Event{a1, b1, a2, b2, a3}
	tests := []struct {
		name string
		got  []*eventgate.Event
		bad  []string // sessions reported out of order
	}{
		{"as sent", []*eventgate.Event{a1, b1, a2, b2, a3}, nil},
		{"sessions regrouped", []*eventgate.Event{b1, b2, a1, a2, a3}, nil},
		{"redelivery later", []*eventgate.Event{a1, a2, a1, b1, a3, b2, a2}, nil},
		{"swap in a", []*eventgate.Event{a2, a1, b1, b2, a3}, []string{"session a "}},
		{"swap in both", []*eventgate.Event{a1, a3, a2, b2, b1}, []string{"session b ", "session a "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := orderProblems(tt.got, want)
			if len(got) != len(tt.bad) {
				t.Fatalf("problems %q; want %d", got, len(tt.bad))
			}
			for i := range got {
				if !strings.Contains(got[i], tt.bad[i]) {
					t.Errorf("problem %q; want it about %q", got[i], tt.bad[i])
				}
			}
		})
	}
}

func TestLargeDataSize(t *testing.T) {
	for _, n := range []int{16, 1000, 1 << 20} {
		d := largeData(n)
		if len(d) != n {
			t.Errorf("largeData(%d) is %d bytes", n, len(d))
		}
		if _, err := decodeJSON(d); err != nil {
			t.Errorf("largeData(%d) is not JSON: %v", n, err)
		}
	}
}

func TestUnobservedRecorder(t *testing.T) {
	TestUnobserved(t, func(testing.TB) eventgate.Transport { return NewRecorder() }, Features{ConcurrentSends: 1000})
}
