package uitest

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/eventgate/eventgate"
)

// rowsJS lists the session ids of the list, in order.
const rowsJS = `[...document.querySelectorAll('#sessions tr[data-id]')].map(r => r.dataset.id).join(' ')`

func TestSessionsListLoads(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour)
	e.post(
		ev{Session: "alpha", Type: "user_message", Time: at(base)},
		ev{Session: "beta", Type: "user_message", Time: at(base.Add(time.Minute))},
		ev{Session: "bravo", Type: "user_message", Time: at(base.Add(2 * time.Minute))},
		ev{Session: "alpha", Type: "agent_reply", Time: at(base.Add(3 * time.Minute))},
	)
	e.open("/ui/", readToken)
	e.waitJS(rowsJS+` === 'alpha bravo beta'`, 10*time.Second)
	if got := e.text(`document.querySelector('#sessions-total').textContent`); got != "3 sessions" {
		t.Errorf("total: %q", got)
	}
	e.shot("sessions")

	// Search by id prefix.
	e.run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#search"), "b"))
	e.waitJS(rowsJS+` === 'bravo beta'`, 10*time.Second)

	// Live: a new session shows without reloading, last activity first.
	e.post(ev{Session: "banjo", Type: "user_message"})
	e.waitJS(rowsJS+` === 'banjo bravo beta'`, 10*time.Second)
}

func TestLoginAndScopes(t *testing.T) {
	sink := &switchable{}
	e := newEnv(t, eventgate.WithTransport("sink", sink))
	e.post(ev{Session: "s1", Type: "user_message"})

	// No token: the login field, and nothing else.
	e.open("/ui/", "")
	if n := evalJS[int](e, `document.querySelectorAll('#sessions, .routes').length`); n != 0 {
		t.Errorf("without a token the page shows %d data elements", n)
	}
	e.shot("login")

	// A wrong token is refused and not kept.
	e.run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#token"), "wrong-token-0123456789"), chromedp.KeyEvent(kb.Enter))
	e.waitJS(`document.querySelector('#login-error')?.textContent === 'That token is not valid.'`, 10*time.Second)
	if got := e.text(`sessionStorage.getItem('eventgate.token') ?? ''`); got != "" {
		t.Errorf("a refused token stays in session storage: %q", got)
	}

	// A read token: the data, no admin buttons on any page.
	e.run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#token"), readToken), chromedp.KeyEvent(kb.Enter))
	e.waitJS(`document.querySelector('#sessions tr[data-id="s1"]') && document.querySelector('.route[data-route="sink"]')`, 10*time.Second)
	if got := e.text(`document.querySelector('#who').dataset.scopes`); got != "read" {
		t.Errorf("scopes shown: %q", got)
	}
	if n := evalJS[int](e, `document.querySelectorAll('[data-scope="admin"]').length`); n != 0 {
		t.Errorf("a read token sees %d admin controls on the sessions page", n)
	}
	if strings.Contains(e.text(`location.href`), readToken) {
		t.Error("the token is in the URL")
	}
	e.run(10*time.Second, chromedp.Click(chromedp.CSS(`#sessions tr[data-id="s1"]`)))
	e.waitJS(`document.querySelector('main.session-page')?.dataset.loaded === '1'`, 10*time.Second)
	if n := evalJS[int](e, `document.querySelectorAll('[data-scope="admin"]').length`); n != 0 {
		t.Errorf("a read token sees %d admin controls on the session page", n)
	}

	// The token survives a reload of the tab, and signing out forgets it.
	e.run(20*time.Second, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#who")))
	e.run(10*time.Second, chromedp.Click(chromedp.CSS("#sign-out")), chromedp.WaitVisible(chromedp.CSS("#token")))
	if got := e.text(`sessionStorage.getItem('eventgate.token') ?? ''`); got != "" {
		t.Errorf("signed out, session storage still holds %q", got)
	}

	// An admin token: the route links to its dead letters, sessions can be deleted.
	e.run(10*time.Second, chromedp.SendKeys(chromedp.CSS("#token"), adminToken), chromedp.KeyEvent(kb.Enter))
	e.waitJS(`document.querySelector('#delete-session') !== null`, 10*time.Second)
	e.run(10*time.Second, chromedp.Navigate(e.url+"/ui/#/"))
	e.waitJS(`document.querySelector('a.route[data-route="sink"][data-scope="admin"]') !== null`, 10*time.Second)
}

func TestSessionShowsEvents(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Minute)
	var evs []ev
	for i := range 30 {
		evs = append(evs, ev{Session: "conv", Type: []string{"user_message", "agent_reply", "tool_call"}[i%3],
			Time: at(base.Add(time.Duration(i) * time.Second)), Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"text":"hello %d"}`, i, i))})
	}
	e.post(evs...)
	e.open("/ui/", readToken)
	e.waitJS(`document.querySelector('#sessions tr[data-id="conv"]') !== null`, 10*time.Second)
	e.run(10*time.Second, chromedp.Click(chromedp.CSS(`#sessions tr[data-id="conv"]`)))
	e.waitJS(`document.querySelector('#timeline-status')?.dataset.count === '30'`, 10*time.Second)
	if got := e.text(`location.hash`); got != "#/s/conv" {
		t.Errorf("hash %q", got)
	}
	// Rows show type (coloured), time and size.
	row := e.text(`(() => { const r = document.querySelector('#timeline .row[data-seq="1"]'); return r.querySelector('.type').textContent + '|' + r.querySelector('.type').style.background + '|' + r.querySelector('.time').textContent + '|' + r.querySelector('.size').textContent })()`)
	parts := strings.Split(row, "|")
	if len(parts) != 4 || parts[0] != "user_message" || !strings.HasPrefix(parts[1], "rgb") || len(parts[2]) != 12 || !strings.HasSuffix(parts[3], " B") {
		t.Errorf("first row: %q", row)
	}
	a := e.text(`document.querySelector('#timeline .row[data-type="user_message"] .type').style.background`)
	b := e.text(`document.querySelector('#timeline .row[data-type="agent_reply"] .type').style.background`)
	if a == b {
		t.Errorf("two types share the colour %s", a)
	}
	// Selecting an event shows its data and meta as JSON.
	e.run(10*time.Second, chromedp.Click(chromedp.CSS(`#timeline .row[data-seq="2"]`)))
	e.waitJS(`document.querySelector('#detail .json')?.textContent.includes('"hello 1"')`, 5*time.Second)
	// The JSON view collapses and opens.
	e.run(5*time.Second, chromedp.Click(chromedp.CSS(`#detail details > summary`)))
	e.waitJS(`document.querySelector('#detail details').open === false`, 5*time.Second)
	e.shot("session")
}

func TestLiveEventAppearsWithinASecond(t *testing.T) {
	e := newEnv(t)
	e.post(ev{Session: "live", Type: "user_message"})
	e.open("/ui/#/s/live", readToken)
	e.waitJS(`document.querySelector('#timeline-status')?.dataset.count === '1' && !document.querySelector('#live').classList.contains('off')`, 10*time.Second)
	var worst time.Duration
	for i := range 3 {
		start := time.Now()
		e.postNoFlush(ev{Session: "live", Type: "agent_reply", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
		e.waitJS(fmt.Sprintf(`document.querySelector('#timeline-status')?.dataset.count === '%d'`, i+2), time.Second)
		worst = max(worst, time.Since(start))
	}
	t.Logf("posted event shown after at most %v", worst)
	if worst > time.Second {
		t.Errorf("a posted event took %v to show", worst)
	}

	// Scrolled up, new events wait behind the marker.
	var evs []ev
	for i := range 60 {
		evs = append(evs, ev{Session: "live", Type: "tool_call", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))})
	}
	e.post(evs...)
	e.waitJS(`document.querySelector('#timeline-status')?.dataset.count === '64'`, 5*time.Second)
	e.text(`(() => { const l = document.querySelector('#timeline'); l.scrollTop = 0; l.dispatchEvent(new Event('scroll')); return '' })()`)
	e.waitJS(`document.querySelector('#timeline').scrollTop === 0`, 5*time.Second)
	e.post(ev{Session: "live", Type: "agent_reply"}, ev{Session: "live", Type: "agent_reply"})
	e.waitJS(`!document.querySelector('#new-events').hidden && document.querySelector('#new-events').textContent.includes('2 new events')`, 5*time.Second)
	e.shot("new-events")
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#new-events")))
	e.waitJS(`document.querySelector('#new-events').hidden && document.querySelector('#timeline .row[data-seq="66"]') !== null`, 5*time.Second)
}

func TestReplayAtFourTimes(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour)
	var evs []ev
	for i := range 21 { // one event every 100 ms over 2 s
		evs = append(evs, ev{Session: "rec", Type: "tick", Time: at(base.Add(time.Duration(i) * 100 * time.Millisecond))})
	}
	e.post(evs...)
	e.open("/ui/#/s/rec", readToken)
	e.waitJS(`document.querySelector('#timeline-status')?.dataset.count === '21'`, 10*time.Second)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#replay")))
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '0'`, 5*time.Second)
	e.text(`(() => { const s = document.querySelector('#speed'); s.value = '4'; s.dispatchEvent(new Event('change')); return '' })()`)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#play")))
	e.waitJS(`document.querySelector('#replay-status').dataset.elapsedMs !== undefined`, 10*time.Second)
	ms := evalJS[float64](e, `Number(document.querySelector('#replay-status').dataset.elapsedMs)`)
	t.Logf("replay of 2 s at 4x took %.1f ms in the page", ms)
	if ms < 450 || ms > 900 {
		t.Errorf("replay of 2 s at 4x took %.1f ms, want about 500", ms)
	}
	if n := e.text(`document.querySelector('#timeline-status').dataset.count`); n != "21" {
		t.Errorf("after replay %s events shown", n)
	}
	e.shot("replay")

	// Seek to the middle: the events up to 1 s are shown; pause holds.
	e.text(`(() => { const s = document.querySelector('#seek'); s.value = '500'; s.dispatchEvent(new Event('input')); return '' })()`)
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '11'`, 5*time.Second)
	// At 10x the rest (1 s) plays in about 100 ms.
	e.text(`(() => { const s = document.querySelector('#speed'); s.value = '10'; s.dispatchEvent(new Event('change')); return '' })()`)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#play")))
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '21'`, 5*time.Second)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#exit-replay")))
	e.waitJS(`document.querySelector('#replay-bar').hidden`, 5*time.Second)
}

func TestTypeFilterHidesOthers(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour)
	var evs []ev
	for i := range 40 {
		evs = append(evs, ev{Session: "mixed", Type: []string{"user_message", "agent_reply", "tool_call", "tool_result"}[i%4], Time: at(base.Add(time.Duration(i) * time.Second))})
	}
	e.post(evs...)
	e.open("/ui/#/s/mixed", readToken)
	e.waitJS(`document.querySelector('#timeline-status')?.dataset.count === '40'`, 10*time.Second)
	e.text(`(() => { const s = document.querySelector('#type-filter'); s.value = 'tool_call'; s.dispatchEvent(new Event('change')); return '' })()`)
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '10'`, 5*time.Second)
	types := e.text(`[...new Set([...document.querySelectorAll('#timeline .row')].map(r => r.dataset.type))].join(' ')`)
	if types != "tool_call" {
		t.Errorf("with the filter the rows are of types %q", types)
	}
	e.shot("filtered")

	// A time range: events from 10 s to 20 s after the first.
	e.text(`(() => { const s = document.querySelector('#type-filter'); s.value = ''; s.dispatchEvent(new Event('change')); return '' })()`)
	from := base.Add(10 * time.Second).UTC().Format("2006-01-02T15:04:05")
	until := base.Add(20 * time.Second).UTC().Format("2006-01-02T15:04:05")
	e.text(fmt.Sprintf(`(() => { for (const [id, v] of [['since', %q], ['until', %q]]) { const s = document.querySelector('#' + id); s.value = v; s.dispatchEvent(new Event('change')) } return '' })()`, from, until))
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '10'`, 5*time.Second)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#clear-filters")))
	e.waitJS(`document.querySelector('#timeline-status').dataset.count === '40'`, 5*time.Second)
}

func TestKeyboardNavigation(t *testing.T) {
	e := newEnv(t)
	base := time.Now().Add(-time.Hour)
	e.post(
		ev{Session: "k1", Type: "a", Time: at(base)},
		ev{Session: "k2", Type: "a", Time: at(base.Add(time.Second))},
		ev{Session: "k2", Type: "b", Time: at(base.Add(2 * time.Second)), Data: json.RawMessage(`{"second":true}`)},
	)
	e.open("/ui/", readToken)
	e.waitJS(rowsJS+` === 'k2 k1'`, 10*time.Second)
	focused := `document.activeElement?.dataset?.id ?? document.activeElement?.id`
	e.run(5*time.Second, chromedp.KeyEvent("/"))
	e.waitJS(`document.activeElement?.id === 'search'`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.ArrowDown))
	e.waitJS(focused+` === 'k2'`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.ArrowDown))
	e.waitJS(focused+` === 'k1'`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.ArrowUp))
	e.waitJS(focused+` === 'k2'`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.Enter))
	e.waitJS(`location.hash === '#/s/k2' && document.querySelector('#timeline-status')?.dataset.count === '2'`, 10*time.Second)

	// The timeline: Tab reaches the list, arrows select, the JSON shows.
	e.run(5*time.Second, chromedp.Focus(chromedp.CSS("#timeline")), chromedp.KeyEvent(kb.ArrowDown))
	e.waitJS(`document.querySelector('#timeline .row.sel')?.dataset.seq === '2' && document.querySelector('#detail').textContent.includes('#2')`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.ArrowDown))
	e.waitJS(`document.querySelector('#timeline .row.sel')?.dataset.seq === '3' && document.querySelector('#detail .json').textContent.includes('second')`, 5*time.Second)
	e.run(5*time.Second, chromedp.KeyEvent(kb.Home))
	e.waitJS(`document.querySelector('#timeline .row.sel')?.dataset.seq === '2'`, 5*time.Second)
	// Escape goes back to the list, focus where it was.
	e.run(5*time.Second, chromedp.KeyEvent(kb.Escape))
	e.waitJS(`location.hash === '#/' && document.querySelector('#sessions tr[data-id="k2"]') !== null`, 10*time.Second)
}

func TestDeadLettersAndRedrive(t *testing.T) {
	sink := &switchable{}
	sink.refusing.Store(true)
	e := newEnv(t, eventgate.WithTransport("sink", sink))
	e.post(ev{Session: "d", Type: "poison", Data: json.RawMessage(`{"bad":1}`)}, ev{Session: "d", Type: "fine"})
	// Flush returns once the route has settled both events: delivered or
	// dead-lettered.
	if err := e.gw.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if dls, err := e.gw.DeadLetters("sink"); err != nil || len(dls) != 1 {
		t.Fatalf("dead letters after the flush: %d (%v), want the poison event", len(dls), err)
	}
	e.open("/ui/", adminToken)
	e.waitJS(`document.querySelector('a.route[data-route="sink"] .dl-count')?.textContent === '1 dead letters'`, 10*time.Second)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS(`a.route[data-route="sink"]`)))
	e.waitJS(`document.querySelectorAll('#dead-letters tr[data-seq]').length === 1`, 10*time.Second)
	if reason := e.text(`document.querySelector('#dead-letters .reason').textContent`); !strings.Contains(reason, "sink refuses poison") {
		t.Errorf("reason shown: %q", reason)
	}
	e.shot("dead-letters")
	sink.refusing.Store(false)
	e.run(5*time.Second, chromedp.Click(chromedp.CSS("#redrive")))
	e.waitJS(`document.querySelector('#dl-message').textContent.startsWith('Redrive: 1 delivered') && document.querySelectorAll('#dead-letters tr[data-seq]').length === 0`, 10*time.Second)
}
