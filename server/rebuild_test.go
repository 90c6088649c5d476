package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// POST /v1/sessions/{id}/rebuild rewrites a damaged session file from the
// journal while the daemon runs: afterwards every event reads back, none is
// reported damaged, the catalog's count is right, and new events go on
// after the rebuilt lines.
func TestRebuildSessionOnline(t *testing.T) {
	const total = 500
	e := newEnv(t, Options{})
	var body strings.Builder
	for i := range total {
		fmt.Fprintf(&body, `{"session_id":"rb","type":"t","data":{"i":%d}}`+"\n", i)
	}
	if code, res := e.post("application/x-ndjson", body.String()); !accepted(code) {
		t.Fatalf("%d %+v", code, res)
	}
	e.flush()
	damageLine(t, e.dir, "rb", 100)
	damageLine(t, e.dir, "rb", 101)

	if code, _, _ := e.do("POST", "/v1/sessions/rb/rebuild", readToken, "", nil); code != http.StatusForbidden {
		t.Fatalf("rebuild with a read token: %d, want 403", code)
	}
	if code, _, _ := e.do("POST", "/v1/sessions/nosuch/rebuild", adminToken, "", nil); code != http.StatusNotFound {
		t.Fatalf("rebuild of a missing session: %d, want 404", code)
	}
	code, b, _ := e.do("POST", "/v1/sessions/rb/rebuild", adminToken, "", nil)
	var res RebuildResult
	if err := json.Unmarshal(b, &res); code != http.StatusOK || err != nil || len(res.Files) != 1 ||
		res.Files[0].Damaged != 2 || res.Files[0].Lines != total || res.Files[0].FromJournal != total {
		t.Fatalf("rebuild: %d %s", code, b)
	}

	if code, res := e.post("application/json", `{"session_id":"rb","type":"after","data":1}`); !accepted(code) {
		t.Fatalf("%d %+v", code, res)
	}
	e.flush()
	code, b, _ = e.do("GET", "/v1/sessions/rb/events?limit=10000", readToken, "", nil)
	var page struct {
		Events []struct {
			Seq  uint64          `json:"seq"`
			Data json.RawMessage `json:"data"`
		} `json:"events"`
		Damaged int `json:"damaged"`
	}
	if err := json.Unmarshal(b, &page); code != http.StatusOK || err != nil {
		t.Fatalf("events: %d %v", code, err)
	}
	if len(page.Events) != total+1 || page.Damaged != 0 {
		t.Fatalf("after the rebuild: %d events, %d damaged; want %d and 0", len(page.Events), page.Damaged, total+1)
	}
	for i, ev := range page.Events[:total] {
		if want := fmt.Sprintf(`{"i":%d}`, i); string(ev.Data) != want || ev.Seq != uint64(i+1) {
			t.Fatalf("event %d: seq %d data %s, want seq %d data %s", i, ev.Seq, ev.Data, i+1, want)
		}
	}
	code, b, _ = e.do("GET", "/v1/sessions/rb", readToken, "", nil)
	if code != http.StatusOK || !strings.Contains(string(b), fmt.Sprintf(`"count":%d`, total+1)) {
		t.Fatalf("session after the rebuild: %d %s", code, b)
	}
	// Nothing left to rebuild.
	code, b, _ = e.do("POST", "/v1/sessions/rb/rebuild", adminToken, "", nil)
	if code != http.StatusOK || !strings.Contains(string(b), `"files":[]`) {
		t.Fatalf("second rebuild: %d %s", code, b)
	}
}
