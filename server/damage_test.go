package server

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// Journal damage makes /readyz answer 503 with the reason until an operator
// acknowledges it through POST /v1/damage/ack; GET /v1/damage lists it.
func TestDamageKeepsReadyzFalseUntilAcknowledged(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dir := t.TempDir()
	gw, err := eventgate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		ev := &eventgate.Event{SessionID: "s", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}
		if err := gw.Log(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, ".eventgate", "journal", "00000000000000000001.seg")
	b, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0x08 // a record in the middle: intact records follow it
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}

	gw, err = eventgate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = gw.Close(ctx) }()
	srv, err := New(gw, Options{NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	ready := func() (int, map[string]string) {
		rec := newRecorder()
		srv.ServeHTTP(rec, mustReq("GET", "/readyz"))
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.code, body
	}
	if code, body := ready(); code != 503 || body["status"] != "journal damage" || !strings.Contains(body["error"], "1 journal damage") {
		t.Fatalf("readyz with damage: %d %v", code, body)
	}
	rec := newRecorder()
	srv.ServeHTTP(rec, mustReq("GET", "/v1/damage"))
	var list DamageList
	if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil || rec.code != 200 {
		t.Fatalf("GET /v1/damage: %d %s", rec.code, rec.Body)
	}
	if list.Unacknowledged != 1 || len(list.Damage) != 1 || list.Damage[0].Lost != 1 || list.Damage[0].FoundBy != "recovery" {
		t.Fatalf("damage list %+v", list)
	}
	if strings.Contains(rec.Body.String(), dir) {
		t.Fatalf("the answer shows a server path: %s", rec.Body)
	}
	rec = newRecorder()
	srv.ServeHTTP(rec, mustReq("POST", "/v1/damage/ack"))
	if rec.code != 200 || strings.TrimSpace(rec.Body.String()) != `{"acknowledged":1}` {
		t.Fatalf("ack: %d %s", rec.code, rec.Body)
	}
	if code, body := ready(); code != 200 {
		t.Fatalf("readyz after ack: %d %v", code, body)
	}
	rec = newRecorder()
	srv.ServeHTTP(rec, mustReq("GET", "/metrics"))
	for _, want := range []string{"eventgate_journal_damage_unacknowledged 0", "eventgate_journal_damaged_records_total 1"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
