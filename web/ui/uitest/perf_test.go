package uitest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/eventgate/eventgate"
)

// scrollJS jumps the timeline to 60 positions across it and measures each
// frame that follows: the time from setting scrollTop to the next paint.
const scrollJS = `(async () => {
  const l = document.querySelector('#timeline');
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const times = [];
  await frame();
  for (let i = 0; i < 60; i++) {
    const t = performance.now();
    l.scrollTop = (l.scrollHeight - l.clientHeight) * ((i * 37) % 60) / 59;
    await frame();
    await frame();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { avg: times.reduce((a, b) => a + b, 0) / times.length, p95: times[Math.floor(times.length * 0.95)], max: times[times.length - 1], rows: document.querySelectorAll('#timeline .row').length };
})()`

type scrollFigures struct {
	Avg  float64 `json:"avg"`
	P95  float64 `json:"p95"`
	Max  float64 `json:"max"`
	Rows int     `json:"rows"`
}

// TestLargeStoreStaysResponsive stores many sessions
// (EVENTGATE_UI_SESSIONS, default 20,000) and one session of 100,000
// events (EVENTGATE_UI_EVENTS), then measures in the page: the first paint
// of the list, the first rows and the full load of the big timeline, and
// the frames of scrolling through it.
func TestLargeStoreStaysResponsive(t *testing.T) {
	if testing.Short() {
		t.Skip("stores 100,000 events")
	}
	nSessions := envInt(t, "EVENTGATE_UI_SESSIONS", 20000)
	nEvents := envInt(t, "EVENTGATE_UI_EVENTS", 100000)
	e := newEnv(t)
	ctx := context.Background()
	base := time.Now().Add(-48 * time.Hour)
	start := time.Now()
	batch := make([]*eventgate.Event, 0, 1000)
	logBatch := func() {
		if err := e.gw.LogBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := range nSessions {
		batch = append(batch, &eventgate.Event{SessionID: fmt.Sprintf("s%07d", i), Type: "user_message",
			Time: base.Add(time.Duration(i) * time.Second), Data: json.RawMessage(`{"text":"hello"}`)})
		if len(batch) == cap(batch) {
			logBatch()
		}
	}
	types := []string{"user_message", "agent_reply", "tool_call", "tool_result", "thinking"}
	for i := range nEvents {
		batch = append(batch, &eventgate.Event{SessionID: "big", Type: types[i%len(types)],
			Time: base.Add(24*time.Hour + time.Duration(i)*10*time.Millisecond),
			Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"text":"a line of the conversation, number %d, long enough to look real"}`, i, i))})
		if len(batch) == cap(batch) {
			logBatch()
		}
	}
	if len(batch) > 0 {
		logBatch()
	}
	e.flush()
	t.Logf("stored %d sessions and a session of %d events in %v", nSessions+1, nEvents, time.Since(start).Round(time.Millisecond))

	e.open("/ui/", readToken)
	e.waitJS(`document.querySelector('#sessions tr[data-id="big"]') !== null`, 60*time.Second)
	paintAt := evalJS[float64](e, `window.__egPerf.sessionsPaintAt`)
	listMs := evalJS[float64](e, `window.__egPerf.sessionsFirstPaint`)
	e.shot("sessions-large")

	e.run(10*time.Second, chromedp.Click(chromedp.CSS(`#sessions tr[data-id="big"]`)))
	e.waitJS(fmt.Sprintf(`document.querySelector('main.session-page')?.dataset.loaded === '1' && document.querySelector('#timeline-status').dataset.count === '%d'`, nEvents), 120*time.Second)
	firstRows := evalJS[float64](e, `window.__egPerf.timelineFirstRows`)
	loaded := evalJS[float64](e, `window.__egPerf.timelineLoaded`)
	sc := evalJS[scrollFigures](e, scrollJS)
	e.shot("timeline-large")

	// Keys stay quick at the end of the list, and a type filter over all of it.
	t0 := time.Now()
	e.run(10*time.Second, chromedp.Focus(chromedp.CSS("#timeline")), chromedp.KeyEvent(kb.End))
	e.waitJS(fmt.Sprintf(`document.querySelector('#timeline .row.sel')?.dataset.seq === '%d'`, nSessions+nEvents), 5*time.Second)
	endKey := time.Since(t0)
	filterMs := evalJS[float64](e, `(async () => { const s = document.querySelector('#type-filter'); const t = performance.now(); s.value = 'tool_call'; s.dispatchEvent(new Event('change')); await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))); return performance.now() - t })()`)
	longest := evalJS[float64](e, `window.__egPerf.longestTask ?? -1`)
	t.Logf("perf %s", e.text(`JSON.stringify(window.__egPerf)`))

	t.Logf("sessions list (%d sessions): rows painted %.0f ms after navigation start, %.0f ms after the view started", nSessions+1, paintAt, listMs)
	t.Logf("timeline (%d events): first rows %.0f ms, all loaded %.0f ms", nEvents, firstRows, loaded)
	t.Logf("scrolling: frame after a jump avg %.1f ms, p95 %.1f ms, max %.1f ms; %d rows in the DOM", sc.Avg, sc.P95, sc.Max, sc.Rows)
	t.Logf("End key to the last event %v (round trip through the test driver); type filter over all events %.0f ms to paint", endKey.Round(time.Millisecond), filterMs)
	t.Logf("longest main-thread task %.0f ms", longest)

	if sc.Rows > 200 {
		t.Errorf("%d rows in the DOM: the list is not virtualized", sc.Rows)
	}
	// Generous bounds: the machine running the tests may be busy.
	if sc.P95 > 2000 {
		t.Errorf("scroll frames p95 %.1f ms", sc.P95)
	}
	if firstRows > 5000 {
		t.Errorf("first rows after %.0f ms", firstRows)
	}
	if listMs > 5000 {
		t.Errorf("sessions list painted after %.0f ms", listMs)
	}
}

func envInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a count", name, v)
	}
	return n
}
