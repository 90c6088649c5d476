package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

func TestAuth(t *testing.T) {
	e := newEnv(t, Options{})
	ev := `{"session_id":"a","data":1}`
	cases := []struct {
		name, method, path, token string
		want                      int
	}{
		{"no token", "POST", "/v1/events", "", 401},
		{"unknown token", "POST", "/v1/events", "not-a-known-token-at-all", 401},
		{"read token cannot ingest", "POST", "/v1/events", readToken, 403},
		{"ingest token ingests", "POST", "/v1/events", ingestToken, 200},
		{"admin token ingests", "POST", "/v1/events", adminToken, 200},
		{"no token cannot read", "GET", "/v1/sessions", "", 401},
		{"ingest token cannot read", "GET", "/v1/sessions", ingestToken, 403},
		{"read token reads", "GET", "/v1/sessions", readToken, 200},
		{"read token cannot delete", "DELETE", "/v1/sessions/a", readToken, 403},
		{"ingest token cannot see dead letters", "GET", "/v1/routes/x/dead-letters", ingestToken, 403},
		{"metrics need read", "GET", "/metrics", "", 401},
		{"metrics with read", "GET", "/metrics", readToken, 200},
		{"health is public", "GET", "/healthz", "", 200},
		{"readiness is public", "GET", "/readyz", "", 200},
		{"admin deletes", "DELETE", "/v1/sessions/a", adminToken, 204},
	}
	for _, c := range cases {
		var body io.Reader
		if c.method == "POST" {
			body = strings.NewReader(ev)
		}
		if c.method == "DELETE" {
			e.flush()
		}
		code, b, h := e.do(c.method, c.path, c.token, "application/json", body)
		if code != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, code, b, c.want)
		}
		if code == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("%s: 401 without WWW-Authenticate", c.name)
		}
	}
	// A scheme other than Bearer is no token.
	req, _ := http.NewRequest("GET", e.url+"/v1/sessions", nil)
	req.Header.Set("Authorization", "Basic "+readToken)
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("basic auth: %d", resp.StatusCode)
	}
}

func TestNewRefusesNoTokens(t *testing.T) {
	gw, err := eventgate.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	if _, err := New(gw, Options{}); err == nil {
		t.Fatal("New accepted options without tokens")
	}
	if _, err := NewToken("short", "abc", ScopeRead); err == nil {
		t.Fatal("NewToken accepted a 3-byte secret")
	}
	if _, err := NewToken("none", "0123456789abcdefgh"); err == nil {
		t.Fatal("NewToken accepted no scopes")
	}
	if _, err := New(gw, Options{NoAuth: true}); err != nil {
		t.Fatal(err)
	}
}

func TestQueryAPI(t *testing.T) {
	e := newEnv(t, Options{})
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var nd strings.Builder
	for i := range 30 {
		typ := "a"
		if i%3 == 0 {
			typ = "b"
		}
		fmt.Fprintf(&nd, `{"session_id":"q%d","type":%q,"time":%q,"data":{"i":%d}}`+"\n", i%5, typ, base.Add(time.Duration(i)*time.Minute).Format(time.RFC3339), i)
	}
	if code, res := e.post("application/x-ndjson", nd.String()); code != 200 || res.Accepted != 30 {
		t.Fatalf("%d %+v", code, res)
	}
	e.flush()

	t.Run("sessions page by cursor, newest first", func(t *testing.T) {
		var ids []string
		cursor := ""
		for range 10 {
			code, b, _ := e.do("GET", "/v1/sessions?limit=2&cursor="+cursor, readToken, "", nil)
			if code != 200 {
				t.Fatalf("%d %s", code, b)
			}
			var p SessionPage
			_ = json.Unmarshal(b, &p)
			for _, s := range p.Sessions {
				ids = append(ids, s.ID)
				if s.Count != 6 || s.First.IsZero() || !s.Last.After(s.First) {
					t.Errorf("session %+v", s)
				}
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if strings.Join(ids, ",") != "q4,q3,q2,q1,q0" {
			t.Fatalf("sessions %v", ids)
		}
		code, b, _ := e.do("GET", "/v1/sessions?limit=10&types=1", readToken, "", nil)
		var p SessionPage
		_ = json.Unmarshal(b, &p)
		if code != 200 || len(p.Sessions) != 5 || p.Total != 5 || p.NextCursor != "" {
			t.Fatalf("one page: %d %s", code, b)
		}
		for _, s := range p.Sessions {
			if strings.Join(s.Types, ",") != "a,b" {
				t.Errorf("session %s types %v, want [a b]", s.ID, s.Types)
			}
		}
	})
	t.Run("sessions filters", func(t *testing.T) {
		list := func(q string) (ids []string, total int64) {
			t.Helper()
			code, b, _ := e.do("GET", "/v1/sessions?"+q, readToken, "", nil)
			var p SessionPage
			if err := json.Unmarshal(b, &p); code != 200 || err != nil {
				t.Fatalf("%s: %d %s", q, code, b)
			}
			for _, s := range p.Sessions {
				ids = append(ids, s.ID)
			}
			return ids, p.Total
		}
		// q<k> last event: i = 25+k, at base + (25+k) minutes.
		at := func(min int) string {
			return url.QueryEscape(base.Add(time.Duration(min) * time.Minute).Format(time.RFC3339))
		}
		cases := map[string]string{
			"prefix=q3":              "q3",
			"prefix=x":               "",
			"active_since=" + at(27): "q4,q3,q2",
			"active_until=" + at(27): "q1,q0",
			"active_since=" + at(26) + "&active_until=" + at(28): "q2,q1",
			"type=b":           "q4,q3,q2,q1,q0",
			"type=nosuch":      "",
			"limit=1&prefix=q": "q4",
		}
		for q, want := range cases {
			ids, total := list(q)
			if strings.Join(ids, ",") != want {
				t.Errorf("%s: %v, want %s", q, ids, want)
			}
			if wantTotal := int64(len(strings.Split(want, ","))); want != "" && !strings.HasPrefix(q, "limit=") && total != wantTotal {
				t.Errorf("%s: total %d, want %d", q, total, wantTotal)
			}
		}
		if _, total := list("limit=1&prefix=q"); total != 5 {
			t.Errorf("total %d on a page of 1, want 5 (every match)", total)
		}
	})
	t.Run("sessions bad input", func(t *testing.T) {
		_, b, _ := e.do("GET", "/v1/sessions?limit=1", readToken, "", nil)
		var p SessionPage
		_ = json.Unmarshal(b, &p)
		forged := []byte(p.NextCursor)
		forged[len(forged)/2] ^= 1
		for q, want := range map[string]string{
			"limit=0":                  "limit",
			"limit=-1":                 "limit",
			"limit=1001":               "limit",
			"limit=99999999999999":     "limit",
			"limit=ten":                "limit",
			"offset=3":                 "offset",
			"cursor=" + string(forged): "cursor",
			"cursor=%21%21":            "cursor",
			"cursor=AQ":                "cursor",
			"active_since=yesterday":   "active_since",
			"types=maybe":              "types",
			"prefix=%ff":               "prefix",
		} {
			code, b, _ := e.do("GET", "/v1/sessions?"+q, readToken, "", nil)
			if code != 400 || !strings.Contains(string(b), want) {
				t.Errorf("%s: %d %s, want 400 naming %s", q, code, b, want)
			}
		}
	})
	t.Run("one session", func(t *testing.T) {
		code, b, _ := e.do("GET", "/v1/sessions/q2", readToken, "", nil)
		var in eventgate.SessionInfo
		if err := json.Unmarshal(b, &in); code != 200 || err != nil || in.ID != "q2" || in.Count != 6 || in.Bytes == 0 {
			t.Fatalf("%d %s", code, b)
		}
		if code, _, _ := e.do("GET", "/v1/sessions/none", readToken, "", nil); code != 404 {
			t.Fatalf("unknown session: %d", code)
		}
	})
	t.Run("event filters", func(t *testing.T) {
		all := e.events("q0", "")
		if len(all) != 6 {
			t.Fatalf("%d events", len(all))
		}
		if got := e.events("q0", "?type=b"); len(got) != 2 { // i = 0, 15
			t.Errorf("type=b: %d", len(got))
		}
		since := base.Add(10 * time.Minute).Format(time.RFC3339)
		until := base.Add(20 * time.Minute).Format(time.RFC3339)
		if got := e.events("q0", "?since="+since+"&until="+until); len(got) != 2 { // i = 10, 15
			t.Errorf("since/until: %d", len(got))
		}
		var seq2 uint64
		_ = json.Unmarshal(all[1]["seq"], &seq2)
		if got := e.events("q0", fmt.Sprintf("?after_seq=%d&limit=2", seq2)); len(got) != 2 || string(got[0]["data"]) != `{"i":10}` {
			t.Errorf("after_seq/limit: %v", got)
		}
		code, b, _ := e.do("GET", "/v1/sessions/q0/events?format=ndjson", readToken, "", nil)
		if code != 200 || strings.Count(string(b), "\n") != 6 {
			t.Errorf("ndjson: %d %q", code, b)
		}
		for _, bad := range []string{"?since=yesterday", "?after_seq=-1", "?limit=x"} {
			if code, b, _ := e.do("GET", "/v1/sessions/q0/events"+bad, readToken, "", nil); code != 400 {
				t.Errorf("%s: %d %s", bad, code, b)
			}
		}
	})
	t.Run("unknown and hostile session ids", func(t *testing.T) {
		for path, want := range map[string]int{
			"/v1/sessions/nope/events":                 404,
			"/v1/sessions/..%2F..%2Fetc/events":        400,
			"/v1/sessions/..%2F..%2Fetc%2Fpasswd":      400,
			"/v1/sessions/%2E%2E/events":               400,
			"/v1/sessions/.eventgate/events":           400,
			"/v1/sessions/a%00b/events":                400,
			"/v1/sessions/..%5C..%5Cetc/events":        400,
			"/v1/sessions/" + strings.Repeat("x", 300): 400,
		} {
			code, b, _ := e.do("GET", path, readToken, "", nil)
			if code != want && !(want == 400 && code == 404) {
				t.Errorf("%s: %d %s, want %d", path, code, b, want)
			}
		}
		code, _, _ := e.do("DELETE", "/v1/sessions/..%2F..%2Fetc", adminToken, "", nil)
		if code != 400 {
			t.Errorf("delete traversal: %d", code)
		}
		assertNothingOutside(t, e.dir)
	})
	t.Run("delete", func(t *testing.T) {
		if code, _, _ := e.do("DELETE", "/v1/sessions/q4", adminToken, "", nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		if code, _, _ := e.do("GET", "/v1/sessions/q4/events", readToken, "", nil); code != 404 {
			t.Fatalf("after delete: %d", code)
		}
		if code, _, _ := e.do("DELETE", "/v1/sessions/q4", adminToken, "", nil); code != 404 {
			t.Fatalf("second delete: %d", code)
		}
		if _, err := os.Stat(filepath.Join(e.dir, "q4")); err == nil {
			t.Fatal("the session directory is still there")
		}
	})
}

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	id, event, data string
}

// readSSE parses events from r and sends them on the returned channel until
// r ends.
func readSSE(r io.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 100)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), 4<<20)
		var cur sseEvent
		var data []string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if data != nil {
					cur.data = strings.Join(data, "\n")
					ch <- cur
				}
				cur, data = sseEvent{}, nil
			case strings.HasPrefix(line, ":"):
			case strings.HasPrefix(line, "id: "):
				cur.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				cur.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				data = append(data, line[6:])
			}
		}
	}()
	return ch
}

func (e *env) openStream(ctx context.Context, path string, header http.Header) (*http.Response, <-chan sseEvent) {
	e.t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+readToken)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		e.t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	return resp, readSSE(resp.Body)
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("the stream ended")
		}
		return ev
	case <-time.After(20 * time.Second):
		t.Fatal("no event on the stream")
	}
	return sseEvent{}
}

func TestStream(t *testing.T) {
	e := newEnv(t, Options{StreamPing: 50 * time.Millisecond})
	body := "[{\"session_id\":\"live\",\"type\":\"t1\",\"data\":{  \"spaced\" :\ttrue }},\n" +
		`{"session_id":"live","type":"t2","data":2}]`
	if code, res := e.post("application/json", body); code != 200 {
		t.Fatalf("%d %+v", code, res)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, ch := e.openStream(ctx, "/v1/sessions/live/stream?after_seq=0", nil)
	defer resp.Body.Close()
	first := next(t, ch)
	if first.event != "t1" || first.id == "" {
		t.Fatalf("first %+v", first)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal([]byte(first.data), &got); err != nil {
		t.Fatalf("data %q: %v", first.data, err)
	}
	if string(got["data"]) != "{  \"spaced\" :\ttrue }" {
		t.Errorf("data not kept byte for byte: %q", got["data"])
	}
	second := next(t, ch)
	if second.event != "t2" {
		t.Fatalf("second %+v", second)
	}
	// live
	if code, _ := e.post("application/json", `{"session_id":"live","type":"t3","data":3}`); code != 200 {
		t.Fatal(code)
	}
	if third := next(t, ch); third.event != "t3" {
		t.Fatalf("third %+v", third)
	}
	cancel()

	// A reconnecting client resumes after Last-Event-ID.
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	resp2, ch2 := e.openStream(ctx2, "/v1/sessions/live/stream", http.Header{"Last-Event-Id": {second.id}})
	defer resp2.Body.Close()
	if ev := next(t, ch2); ev.event != "t3" {
		t.Fatalf("resumed at %+v", ev)
	}
	cancel2()

	for _, bad := range []string{"?speed=-1", "?speed=x", "?after_seq=x"} {
		if code, _, _ := e.do("GET", "/v1/sessions/live/stream"+bad, readToken, "", nil); code != 400 {
			t.Errorf("%s: %d", bad, code)
		}
	}
	if code, _, _ := e.do("GET", "/v1/sessions/..%2Fx/stream", readToken, "", nil); code != 400 {
		t.Errorf("traversal stream: %d", code)
	}
}

func TestStreamPacedReplay(t *testing.T) {
	e := newEnv(t, Options{})
	base := time.Now().Add(-time.Hour)
	var nd strings.Builder
	for i := range 3 {
		fmt.Fprintf(&nd, `{"session_id":"paced","time":%q,"data":%d}`+"\n", base.Add(time.Duration(i)*400*time.Millisecond).Format(time.RFC3339Nano), i)
	}
	if code, _ := e.post("application/x-ndjson", nd.String()); code != 200 {
		t.Fatal(code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	start := time.Now()
	resp, ch := e.openStream(ctx, "/v1/sessions/paced/stream?speed=2", nil)
	defer resp.Body.Close()
	for range 3 {
		next(t, ch)
	}
	// Two gaps of 400ms at speed 2 are at least 400ms in all. (A lower
	// bound: pacing must not be skipped.)
	if d := time.Since(start); d < 400*time.Millisecond {
		t.Fatalf("paced replay took %v, want at least 400ms", d)
	}
}

func TestShutdownEndsStreamsAndReadiness(t *testing.T) {
	e := newEnv(t, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, ch := e.openStream(ctx, "/v1/sessions/none-yet/stream", nil)
	defer resp.Body.Close()
	sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer scancel()
	// Shutdown must not wait for the open stream.
	if err := e.hs.Shutdown(sctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range ch {
	}
	rec := newRecorder()
	e.srv.ServeHTTP(rec, mustReq("GET", "/readyz"))
	if rec.code != 503 {
		t.Fatalf("readyz after shutdown: %d", rec.code)
	}
}

func TestMetrics(t *testing.T) {
	breaker := transport.CircuitBreaker(transport.NewNull())
	e := newEnv(t, Options{}, eventgate.WithTransport("nullroute", breaker))
	e.post("application/json", `{"session_id":"m","data":1}`)
	e.post("application/x-ndjson", `{"session_id":"m","data":1}`+"\n"+`{"session_id":"m","data":2}`+"\n")
	e.flush()
	code, b, _ := e.do("GET", "/metrics", readToken, "", nil)
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{
		`eventgate_ingest_events_total{shape="event"} 1`,
		`eventgate_ingest_events_total{shape="ndjson"} 2`,
		`eventgate_ingest_requests_total{code="200",shape="ndjson"} 1`,
		`eventgate_ingest_duration_seconds_count{shape="ndjson"} 1`,
		`eventgate_logged_events_total 3`,
		`eventgate_journal_next_seq 4`,
		`eventgate_route_delivered_total{route="nullroute"} 3`,
		`eventgate_route_backlog_events{route="nullroute"} 0`,
		`eventgate_route_breaker_state{route="nullroute",state="closed"} 1`,
		`eventgate_route_lag_seconds{route="nullroute"}`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	code, b, _ = e.do("GET", "/v1/routes", readToken, "", nil)
	if code != 200 || !strings.Contains(string(b), `"name":"nullroute","delivered":3`) {
		t.Errorf("routes: %d %s", code, b)
	}
	code, b, _ = e.do("GET", "/v1/routes/nullroute/dead-letters", adminToken, "", nil)
	if code != 200 || !strings.Contains(string(b), `"dead_letters":[]`) {
		t.Errorf("dead letters: %d %s", code, b)
	}
	code, b, _ = e.do("POST", "/v1/routes/nullroute/redrive", adminToken, "", nil)
	if code != 200 || !strings.Contains(string(b), `"delivered":0`) {
		t.Errorf("redrive: %d %s", code, b)
	}
	if code, _, _ = e.do("GET", "/v1/routes/nope/dead-letters", adminToken, "", nil); code != 404 {
		t.Errorf("unknown route: %d", code)
	}
}

// A route taken out of the configuration is reported as detached by
// /v1/routes and /metrics.
func TestDetachedRouteReported(t *testing.T) {
	dir := t.TempDir()
	old, err := eventgate.Open(dir, eventgate.WithTransport("old", transport.NewNull()))
	if err != nil {
		t.Fatal(err)
	}
	if err := old.Log(t.Context(), &eventgate.Event{SessionID: "d", Data: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(dir, eventgate.WithTransport("new", transport.NewNull()))
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	srv, err := New(gw, Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.HTTPServer("127.0.0.1:0").Handler)
	defer ts.Close()
	for path, want := range map[string]string{
		"/v1/routes": `"detached":["old"]`,
		"/metrics":   `eventgate_route_detached{route="old"} 1`,
	} {
		resp, err := ts.Client().Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), want) {
			t.Errorf("%s lacks %s:\n%s", path, want, b)
		}
	}
}
