package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func (e *env) postKey(ct, key, body string) (int, string) {
	e.t.Helper()
	req, err := http.NewRequest("POST", e.url+"/v1/events", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ingestToken)
	req.Header.Set("Content-Type", ct)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestIngestDuplicateAnswers(t *testing.T) {
	e := newEnv(t, Options{})
	one := `{"id":"order-17","session_id":"d","type":"t","data":{"n":1}}`
	if code, b := e.postKey("application/json", "", one); code != 200 || b != `{"accepted":1,"ids":["order-17"]}` {
		t.Fatalf("first: %d %s", code, b)
	}
	code, b := e.postKey("application/json", "", one)
	if code != 200 || b != `{"accepted":1,"duplicates":1,"ids":["order-17"],"items":[{"index":0,"id":"order-17","duplicate":true}],"duplicate":true}` {
		t.Fatalf("again: %d %s", code, b)
	}
	// An array: a new item, a duplicate, the same id twice, and a refused item: 207.
	code, res := e.post("application/json", `[{"session_id":"d","data":2},`+one+`,{"id":"x","session_id":"d","data":3},{"id":"x","session_id":"d","data":3},{"session_id":"../","data":1}]`)
	if code != 207 || res.Accepted != 4 || res.Duplicates != 2 || res.Rejected != 1 || res.Duplicate ||
		len(res.Items) != 2 || res.Items[0] != (IngestItem{Index: 1, ID: "order-17", Duplicate: true}) ||
		res.Items[1] != (IngestItem{Index: 3, ID: "x", Duplicate: true}) || res.IDs[1] != "order-17" || res.IDs[3] != "x" {
		t.Fatalf("array: %d %+v", code, res)
	}
	e.flush()
	if evs := e.events("d", ""); len(evs) != 3 {
		t.Fatalf("session holds %d events, want 3", len(evs))
	}
}

func TestIngestSeedEventIDAndIdempotencyKey(t *testing.T) {
	e := newEnv(t, Options{})
	seed := `{"event":{"session_id":"k","type":"msg","text":"hi"},"metadata":{"event_id":"seed-1"},"timestamp":1767323045.25}`
	for i := range 3 {
		code, res := e.post("application/json", seed)
		if code != 200 || res.IDs[0] != "seed-1" || res.Duplicate != (i > 0) {
			t.Fatalf("seed post %d: %d %+v", i, code, res)
		}
	}
	// The seed payload without an event_id, retried under one Idempotency-Key.
	plain := `{"event":{"session_id":"k","type":"msg","text":"again"},"metadata":{},"timestamp":1767323046}`
	for i := range 2 {
		code, b := e.postKey("application/json", "req-9", plain)
		var res IngestResult
		if err := json.Unmarshal([]byte(b), &res); err != nil || code != 200 || res.IDs[0] != "req-9" || res.Duplicate != (i > 0) {
			t.Fatalf("keyed post %d: %d %s", i, code, b)
		}
	}
	// A batch under a key: item i gets key/i; items with their own id keep it.
	nd := `{"session_id":"k","data":1}` + "\n\n" + `{"id":"own","session_id":"k","data":2}` + "\n" + `{"session_id":"k","data":3}` + "\n"
	for i := range 2 {
		code, b := e.postKey("application/x-ndjson", "batch-1", nd)
		var res IngestResult
		if err := json.Unmarshal([]byte(b), &res); err != nil || code != 200 || strings.Join(res.IDs, ",") != "batch-1/0,own,batch-1/2" ||
			res.Duplicates != 3*i {
			t.Fatalf("keyed batch %d: %d %s", i, code, b)
		}
	}
	if code, b := e.postKey("application/json", strings.Repeat("k", 300), `{"session_id":"k","data":1}`); code != 400 || !strings.Contains(b, "invalid_event") {
		t.Fatalf("an over-long key: %d %s", code, b)
	}
	e.flush()
	if evs := e.events("k", ""); len(evs) != 5 {
		t.Fatalf("session holds %d events, want 5", len(evs))
	}
	code, m, _ := e.do("GET", "/metrics", readToken, "", nil)
	if code != 200 {
		t.Fatal(code)
	}
	for _, want := range []string{
		`eventgate_ingest_duplicate_events_total{shape="seed"} 3`,
		`eventgate_ingest_duplicate_events_total{shape="ndjson"} 3`,
		`eventgate_dedup_duplicates_total 6`,
		`eventgate_dedup_keys 5`,
		`eventgate_dedup_evicted_total 0`,
	} {
		if !strings.Contains(string(m), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
