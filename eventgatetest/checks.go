package eventgatetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func (s *suite) testSendOne(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	ev := g.event(g.session("one"))
	send(t, t.Context(), tr, ev)
	got := await(t, t.Context(), fetch, []*eventgate.Event{ev})
	checkDelivered(t, s.f, got, []*eventgate.Event{ev}, nil, nameOf)
}

// fieldCase is one event of a table of field values, with the name failures
// report it by.
type fieldCase struct {
	name string
	ev   *eventgate.Event
}

func (s *suite) runCases(t *testing.T, cases []fieldCase) {
	t.Helper()
	tr, fetch := s.open(t)
	want := make([]*eventgate.Event, len(cases))
	for i, c := range cases {
		want[i] = c.ev
		if err := tr.Send(t.Context(), c.ev); err != nil {
			t.Fatalf("case %q: Send (id %s): %v", c.name, c.ev.ID, err)
		}
	}
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, nil, func(i int) string { return fmt.Sprintf("case %q", cases[i].name) })
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}

func (s *suite) testFields(t *testing.T) {
	g := newGen()
	sess := g.session("fields")
	with := func(mod func(ev *eventgate.Event)) *eventgate.Event {
		ev := g.event(sess)
		mod(ev)
		return ev
	}
	s.runCases(t, []fieldCase{
		{"ordinary", g.event(sess)},
		{"whole second in UTC", with(func(ev *eventgate.Event) { ev.Time = ev.Time.UTC().Truncate(time.Second) })},
		{"nanoseconds in UTC", with(func(ev *eventgate.Event) {
			ev.Time = ev.Time.UTC().Add(987654321 - time.Duration(ev.Time.Nanosecond()))
		})},
		{"negative zone offset", with(func(ev *eventgate.Event) { ev.Time = ev.Time.In(time.FixedZone("UTC-09:30", -(9*3600 + 30*60))) })},
		{"empty type", with(func(ev *eventgate.Event) { ev.Type = "" })},
		{"type with punctuation", with(func(ev *eventgate.Event) { ev.Type = "tool_call.result/v2-final:ok" })},
		{"data object with inner whitespace", with(func(ev *eventgate.Event) { ev.Data = []byte(`{ "spaced" : [ 1, 2 ,3 ] ,"n": 1.50, "e": 1E+2 }`) })},
		{"data nested", with(func(ev *eventgate.Event) {
			ev.Data = []byte(`{"a":{"b":{"c":[{"d":null},{"e":false}]}},"t":true,"z":0}`)
		})},
		{"data array", with(func(ev *eventgate.Event) { ev.Data = []byte(`[1,"two",null,{"three":3}]`) })},
		{"data string", with(func(ev *eventgate.Event) { ev.Data = []byte(`"just a string"`) })},
		{"data number", with(func(ev *eventgate.Event) { ev.Data = []byte(`-42.125`) })},
		{"data true", with(func(ev *eventgate.Event) { ev.Data = []byte(`true`) })},
		{"data big integer", with(func(ev *eventgate.Event) { ev.Data = []byte(`{"big":12345678901234567890123,"tiny":-0.000001}`) })},
		{"data key order", with(func(ev *eventgate.Event) { ev.Data = []byte(`{"z":1,"a":2,"m":3}`) })},
		{"meta many keys", with(func(ev *eventgate.Event) {
			ev.Meta = eventgate.StringMeta(map[string]string{"a": "1", "b": "", "user.id": "u-17", "trace": "00-abc-def-01", "z": "last"})
		})},
		{"meta typed values", with(func(ev *eventgate.Event) {
			ev.Meta = []byte(`{"temperature":0.2,"tags":["a","b"],"n":3,"ok":true,"none":null,"nested":{"k":"v","d":[1,{"x":false}]},"s":"str"}`)
		})},
	})
}

func (s *suite) testEdgeCases(t *testing.T) {
	g := newGen()
	sess := g.session("edge")
	with := func(mod func(ev *eventgate.Event)) *eventgate.Event {
		ev := g.event(sess)
		mod(ev)
		return ev
	}
	longSession := g.prefix + "-" + strings.Repeat("s", eventgate.MaxSessionIDLen-len(g.prefix)-1)
	s.runCases(t, []fieldCase{
		{"null data", with(func(ev *eventgate.Event) { ev.Data = []byte(`null`) })},
		{"nil data", with(func(ev *eventgate.Event) { ev.Data = nil })},
		{"empty data", with(func(ev *eventgate.Event) { ev.Data = []byte{} })},
		{"empty object data", with(func(ev *eventgate.Event) { ev.Data = []byte(`{}`) })},
		{"non-ASCII data", with(func(ev *eventgate.Event) {
			ev.Data = []byte(`{"emoji":"🎉👩‍💻🏳️‍🌈","cjk":"日本語のテキスト 中文 한국어","rtl":"שלום עולם مرحبا بالعالم","accents":"naïve café Ångström","🔑":"key"}`)
		})},
		{"non-ASCII type and meta", with(func(ev *eventgate.Event) {
			ev.Type = "注文.作成-événement-مرحبا-🚀"
			ev.Meta = eventgate.StringMeta(map[string]string{"名前": "値", "emoji": "🚀✨", "rtl": "مرحبا", "mixed": "abc-日本-xyz"})
		})},
		{"JSON escapes in data", with(func(ev *eventgate.Event) {
			ev.Data = []byte(`{"q":"say \"hi\"","bs":"C:\\path\\x","nl":"line1\nline2","tab":"a\tb","u":"\u00e9\u2028\ud83d\ude00","ctl":"\u0001","slash":"a\/b"}`)
		})},
		{"special characters in meta", with(func(ev *eventgate.Event) {
			ev.Meta = eventgate.StringMeta(map[string]string{"key with spaces": `value "quoted" \ backslash`, "multi": "line1\nline2\ttab", "k.dots-dash_under": "<html>&amp;"})
		})},
		{"special characters in type", with(func(ev *eventgate.Event) { ev.Type = `type "quoted" \ with space` })},
		{"empty meta", with(func(ev *eventgate.Event) { ev.Meta = []byte(`{}`) })},
		{"nil meta", with(func(ev *eventgate.Event) { ev.Meta = nil })},
		{"non-ASCII session id", g.event(g.session("セッション-مرحبا"))},
		{"longest session id", g.event(longSession)},
	})
}

func (s *suite) testLargeData(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	sess := g.session("large")
	big := g.event(sess)
	big.Data = largeData(s.f.maxDataSize())
	small := g.event(sess)
	want := []*eventgate.Event{big, small}
	send(t, t.Context(), tr, want...)
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, nil, func(i int) string {
		if i == 0 {
			return fmt.Sprintf("event with %d bytes of data", len(big.Data))
		}
		return "small event after the large one"
	})
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}

func (s *suite) testSessionOrder(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	want := g.interleaved(50, "a", "b", "c")
	send(t, t.Context(), tr, want...)
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, nil, nameOf)
	if s.f.Unordered {
		t.Log("order not checked: Features.Unordered")
		return
	}
	checkOrder(t, got, want)
}

func (s *suite) testConcurrentSends(t *testing.T) {
	tr, fetch := s.open(t)
	n := s.f.concurrentSends()
	workers := min(50, n)
	g := newGen()
	// Worker w sends events i ≡ w (mod workers), in order, all in session w.
	want := make([]*eventgate.Event, n)
	sessions := make([]string, workers)
	for w := range sessions {
		sessions[w] = g.session(fmt.Sprintf("c%02d", w))
	}
	for i := range want {
		want[i] = g.event(sessions[i%workers])
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures []string
		failed   int
	)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += workers {
				if err := tr.Send(t.Context(), want[i]); err != nil {
					mu.Lock()
					failed++
					if len(failures) < 10 {
						failures = append(failures, fmt.Sprintf("event #%d (id %s): %v", i, want[i].ID, err))
					}
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if failed > 0 {
		t.Fatalf("%d of %d concurrent Sends failed; first failures:\n%s", failed, n, strings.Join(failures, "\n"))
	}
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, nil, nameOf)
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}

func (s *suite) testSendBatch(t *testing.T) {
	tr, fetch := s.open(t)
	bs, ok := tr.(eventgate.BatchSender)
	if !ok {
		t.Skip("transport does not implement eventgate.BatchSender")
	}
	ctx := t.Context()
	if err := bs.SendBatch(ctx, nil); err != nil {
		t.Errorf("SendBatch of a nil batch: %v", err)
	}
	if err := bs.SendBatch(ctx, []*eventgate.Event{}); err != nil {
		t.Errorf("SendBatch of an empty batch: %v", err)
	}
	g := newGen()
	first := g.interleaved(25, "a", "b", "c", "d")
	second := g.interleaved(3, "a", "b", "c", "d")
	sendBatch(t, ctx, bs, "first batch", first)
	sendBatch(t, ctx, bs, "second batch", second)
	want := append(append([]*eventgate.Event(nil), first...), second...)
	got := await(t, ctx, fetch, want)
	checkDelivered(t, s.f, got, want, nil, func(i int) string {
		if i < len(first) {
			return fmt.Sprintf("first batch event #%d", i)
		}
		return fmt.Sprintf("second batch event #%d", i-len(first))
	})
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}

func sendBatch(t *testing.T, ctx context.Context, bs eventgate.BatchSender, what string, evs []*eventgate.Event) {
	t.Helper()
	err := bs.SendBatch(ctx, evs)
	if err == nil {
		return
	}
	var be *eventgate.BatchError
	if errors.As(err, &be) {
		t.Fatalf("SendBatch of the %s (%d events) partly failed: %d events refused: %v", what, len(evs), len(be.Failed), err)
	}
	t.Fatalf("SendBatch of the %s (%d events): %v", what, len(evs), err)
}

func (s *suite) testConnect(t *testing.T) {
	tr, fetch := s.open(t)
	c, ok := tr.(eventgate.Connector)
	if !ok {
		t.Skip("transport does not implement eventgate.Connector")
	}
	ctx := t.Context()
	for i := 1; i <= 2; i++ {
		if err := c.Connect(ctx); err != nil {
			t.Fatalf("Connect call %d: %v", i, err)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Connect(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("concurrent Connect %d on a connected transport: %v", i, err)
		}
	}
	g := newGen()
	ev := g.event(g.session("connect"))
	send(t, ctx, tr, ev)
	got := await(t, ctx, fetch, []*eventgate.Event{ev})
	checkDelivered(t, s.f, got, []*eventgate.Event{ev}, nil, nameOf)
}

// within runs f and fails the test when it does not return within
// hangTimeout; it guards against hangs and is no speed assertion.
func within(t *testing.T, what string, f func() error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(hangTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		t.Fatalf("%s did not return within %v", what, hangTimeout)
		return nil
	}
}

func (s *suite) testCancelledContext(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	sess := g.session("cancel")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		var be *eventgate.BatchError
		if errors.As(err, &be) && len(be.Failed) > 0 {
			// A batch may report the cancellation per event.
			for i, e := range be.Failed {
				if !cancelError(e) {
					t.Errorf("%s with a cancelled context: event %d failed with %T %q; want an error matching context.Canceled or an *eventgate.TransportError", what, i, e, e)
				}
			}
			return
		}
		switch {
		case err == nil:
			t.Errorf("%s with a cancelled context returned nil; want an error", what)
		case !cancelError(err):
			t.Errorf("%s with a cancelled context: got %T %q; want an error matching context.Canceled or an *eventgate.TransportError", what, err, err)
		}
	}
	check("Send on a new transport", within(t, "Send with a cancelled context", func() error {
		return tr.Send(cancelled, g.event(sess))
	}))
	if bs, ok := tr.(eventgate.BatchSender); ok {
		check("SendBatch", within(t, "SendBatch with a cancelled context", func() error {
			return bs.SendBatch(cancelled, g.interleaved(3, "cancel"))
		}))
	}
	// The transport keeps working once given a live context.
	ev := g.event(sess)
	send(t, t.Context(), tr, ev)
	check("Send on a connected transport", within(t, "Send with a cancelled context", func() error {
		return tr.Send(cancelled, g.event(sess))
	}))
	ev2 := g.event(sess)
	send(t, t.Context(), tr, ev2)
	want := []*eventgate.Event{ev, ev2}
	got := await(t, t.Context(), fetch, want)
	sent := make(map[string]bool)
	for _, e := range got { // events sent with a cancelled context may or may not arrive
		if e != nil && e.SessionID == sess {
			sent[e.ID] = true
		}
	}
	checkDelivered(t, s.f, got, want, sent, nameOf)
}

// cancelError reports whether err is an acceptable outcome of a call made
// with a cancelled context.
func cancelError(err error) bool {
	var te *eventgate.TransportError
	return err != nil && (errors.Is(err, context.Canceled) || errors.As(err, &te))
}

func (s *suite) testCloseFlushes(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	want := g.interleaved(10, "a", "b")
	send(t, t.Context(), tr, want...)
	if err := within(t, "Close", tr.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, nil, nameOf)
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}

func checkClosed(t *testing.T, what string, err error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s after Close returned nil; want an error matching eventgate.ErrClosed", what)
	} else if !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("%s after Close: got %q; want an error matching eventgate.ErrClosed", what, err)
	}
}

func (s *suite) testCloseThenSend(t *testing.T) {
	tr, fetch := s.open(t)
	g := newGen()
	sess := g.session("closed")
	before := g.event(sess)
	send(t, t.Context(), tr, before)
	if err := within(t, "Close", tr.Close); err != nil {
		t.Fatalf("Close: %v", err)
	}
	after := g.event(sess)
	checkClosed(t, "Send", within(t, "Send after Close", func() error { return tr.Send(t.Context(), after) }))
	if bs, ok := tr.(eventgate.BatchSender); ok {
		checkClosed(t, "SendBatch", within(t, "SendBatch after Close", func() error {
			return bs.SendBatch(t.Context(), []*eventgate.Event{after})
		}))
	}
	if err := within(t, "second Close", tr.Close); err != nil {
		t.Errorf("second Close: %v; want nil (Close is idempotent)", err)
	}
	got := await(t, t.Context(), fetch, []*eventgate.Event{before})
	for _, ev := range got {
		if ev != nil && ev.ID == after.ID {
			t.Errorf("event %s sent after Close was delivered", after.ID)
		}
	}
}

func (s *suite) testCloseUnused(t *testing.T) {
	tr, _ := s.open(t)
	for i := 1; i <= 2; i++ {
		if err := within(t, "Close", tr.Close); err != nil {
			t.Errorf("Close call %d of an unused transport: %v", i, err)
		}
	}
	g := newGen()
	checkClosed(t, "Send", within(t, "Send after Close", func() error {
		return tr.Send(t.Context(), g.event(g.session("unused")))
	}))
}

func (s *suite) testCloseDuringSends(t *testing.T) {
	tr, fetch := s.open(t)
	const workers, perWorker, closeAfter = 8, 200, 16
	g := newGen()
	streams := make([][]*eventgate.Event, workers)
	sent := make(map[string]bool)
	for w := range streams {
		sess := g.session(fmt.Sprintf("w%d", w))
		for range perWorker {
			ev := g.event(sess)
			streams[w] = append(streams[w], ev)
			sent[ev.ID] = true
		}
	}
	var (
		wg        sync.WaitGroup
		succeeded atomic.Int64
		ready     = make(chan struct{})
		readyOnce sync.Once
		accepted  = make([][]*eventgate.Event, workers)
	)
	for w := range streams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range streams[w] {
				if err := tr.Send(t.Context(), ev); err != nil {
					return // the transport was closed under this worker
				}
				accepted[w] = append(accepted[w], ev)
				if succeeded.Add(1) == closeAfter {
					readyOnce.Do(func() { close(ready) })
				}
			}
		}()
	}
	allDone := make(chan struct{})
	go func() { wg.Wait(); close(allDone) }()
	select {
	case <-ready:
	case <-allDone: // every Send failed, or the whole stream was faster than the signal
	}
	closeErr := within(t, "Close during Sends", tr.Close)
	select {
	case <-allDone:
	case <-time.After(hangTimeout):
		t.Fatalf("Sends did not return within %v of Close", hangTimeout)
	}
	if closeErr != nil {
		t.Errorf("Close during Sends: %v", closeErr)
	}
	g2 := newGen()
	checkClosed(t, "Send", tr.Send(t.Context(), g2.event(g2.session("late"))))
	var want []*eventgate.Event
	for _, a := range accepted {
		want = append(want, a...)
	}
	if len(want) == 0 {
		t.Fatal("no Send succeeded before Close")
	}
	t.Logf("%d of %d Sends returned nil before Close stopped them", len(want), workers*perWorker)
	got := await(t, t.Context(), fetch, want)
	checkDelivered(t, s.f, got, want, sent, nameOf)
	if !s.f.Unordered {
		checkOrder(t, got, want)
	}
}
