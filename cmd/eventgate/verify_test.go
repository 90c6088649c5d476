package main

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

// verify reports journal damage, a damaged session-file line and a damaged
// catalog, and exits 1; --repair quarantines and registers the journal
// damage and removes the catalog; damage list and ack show and acknowledge
// the register; a second verify finds nothing left to repair.
func TestVerifyAndDamageCommands(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	gw, err := eventgate.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 300 {
		if err := gw.Log(ctx, &eventgate.Event{SessionID: "s", Data: json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	seg := filepath.Join(dir, ".eventgate", "journal", "00000000000000000001.seg")
	b, _ := os.ReadFile(seg)
	b[len(b)/2] ^= 0x02
	if err := os.WriteFile(seg, b, 0o644); err != nil {
		t.Fatal(err)
	}
	sf := filepath.Join(dir, "s", "00000000000000000001.jsonl")
	lines, _ := os.ReadFile(sf)
	nl := strings.Index(string(lines), "\n")
	if err := os.WriteFile(sf, append(append([]byte(nil), lines[:nl]...), append([]byte(`{"seq":`), lines[nl:]...)...), 0o644); err != nil {
		t.Fatal(err)
	}
	cat := eventgate.CatalogPath(dir)
	if err := os.WriteFile(cat, []byte("not a database, not at all; a few more bytes to look like a header........."), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = os.Remove(cat + "-wal")
	_ = os.Remove(cat + "-shm")

	out := runCLI(t, bin, nil, 1, "verify", "--dir", dir)
	for _, want := range []string{"journal: 1 segment(s), 299 record(s)", "damaged: segment 1 offset", "records 1", "lost",
		"s/00000000000000000001.jsonl: line 1: not a session-file line", "session catalog: damaged", "repairing would:"} {
		if !strings.Contains(out, want) {
			t.Errorf("verify output lacks %q:\n%s", want, out)
		}
	}
	runCLI(t, bin, nil, 0, "verify", "--dir", dir, "--repair")
	if _, err := os.Stat(cat); !os.IsNotExist(err) {
		t.Errorf("the damaged catalog was not removed: %v", err)
	}
	q, _ := filepath.Glob(filepath.Join(dir, ".eventgate", "journal", "*.quarantine"))
	if len(q) != 1 {
		t.Errorf("quarantine files %v", q)
	}
	out = runCLI(t, bin, nil, 0, "damage", "list", "--dir", dir)
	if !strings.Contains(out, "verify") || !strings.Contains(out, "1 damage report(s)") {
		t.Errorf("damage list:\n%s", out)
	}
	out = runCLI(t, bin, nil, 0, "damage", "ack", "--dir", dir)
	if !strings.Contains(out, "1 damage report(s) acknowledged") {
		t.Errorf("damage ack: %s", out)
	}
	// The session-file line is still damaged (readers skip it); the
	// journal damage is known; the catalog is gone until the next start.
	out = runCLI(t, bin, nil, 1, "verify", "--dir", dir)
	if !strings.Contains(out, "known damage") || !strings.Contains(out, "1 problem(s)") {
		t.Errorf("second verify:\n%s", out)
	}
}
