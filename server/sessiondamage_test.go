package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// accepted tells an ingest answer that recorded every item.
func accepted(code int) bool { return code == http.StatusOK || code == http.StatusAccepted }

// damageLine overwrites the first byte of line n (0-based) of the session's
// only file, keeping the line break: one damaged line among good ones.
func damageLine(t *testing.T, dir, session string, n int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, session, "*.jsonl"))
	if err != nil || len(files) != 1 {
		t.Fatalf("session files %v %v", files, err)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for range n {
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	b[off] = 'X'
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// Issue 12, scenario 5: a damaged session-file line is skipped and reported
// by the JSON pages, the NDJSON export and SSE, which all deliver every other
// event.
func TestDamagedSessionLine(t *testing.T) {
	const total = 3000
	e := newEnv(t, Options{})
	var body strings.Builder
	for i := range total {
		fmt.Fprintf(&body, `{"session_id":"dmg","type":"t","data":{"i":%d}}`+"\n", i)
	}
	if code, res := e.post("application/x-ndjson", body.String()); !accepted(code) {
		t.Fatalf("%d %+v", code, res)
	}
	e.flush()
	damageLine(t, e.dir, "dmg", 1500)

	// JSON page.
	code, b, _ := e.do("GET", "/v1/sessions/dmg/events?limit=10000", readToken, "", nil)
	var page struct {
		Events  []json.RawMessage `json:"events"`
		Damaged int               `json:"damaged"`
	}
	if err := json.Unmarshal(b, &page); code != http.StatusOK || err != nil {
		t.Fatalf("page: %d %v %.200s", code, err, b)
	}
	if len(page.Events) != total-1 || page.Damaged != 1 {
		t.Fatalf("page: %d events, damaged %d; want %d and 1", len(page.Events), page.Damaged, total-1)
	}

	// NDJSON export.
	code, b, _ = e.do("GET", "/v1/sessions/dmg/events?format=ndjson", readToken, "", nil)
	if code != http.StatusOK {
		t.Fatalf("export: %d", code)
	}
	events, records := 0, 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("export line %q: %v", sc.Bytes(), err)
		}
		if _, ok := m["error"]; ok {
			var rec DamageRecord
			_ = json.Unmarshal(sc.Bytes(), &rec)
			if rec.Damaged != 1 || rec.File == "" || strings.Contains(sc.Text(), e.dir) {
				t.Fatalf("damage record %s", sc.Bytes())
			}
			records++
			continue
		}
		events++
	}
	if events != total-1 || records != 1 {
		t.Fatalf("export: %d events, %d damage records; want %d and 1", events, records, total-1)
	}

	// SSE: every good event, and an error event; the stream goes on.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, ch := e.openStream(ctx, "/v1/sessions/dmg/stream?after_seq=0", nil)
	defer resp.Body.Close()
	got, errs := 0, 0
	for got < total-1 || errs == 0 {
		ev := next(t, ch)
		if ev.event == "error" {
			errs++
			continue
		}
		got++
	}
	if code, _ := e.postAs(ingestToken, `{"session_id":"dmg","type":"live","data":1}`); !accepted(code) {
		t.Fatal(code)
	}
	if ev := next(t, ch); ev.event != "live" {
		t.Fatalf("after the damage the stream gave %+v, want the live event", ev)
	}
	if errs != 1 {
		t.Fatalf("%d error events, want 1", errs)
	}
}
