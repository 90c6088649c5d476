package sessions

import (
	"context"
	"os"
	"testing"
)

// The high-water mark is ahead of every line while the projector runs (so a
// crash cannot let the journal reuse a seq a file holds) and exact after a
// clean stop (so a restart skips none); a damaged mark is an error.
func TestHighWaterMark(t *testing.T) {
	dir := t.TempDir()
	j, cat := openStores(t, dir)
	r, err := j.OpenReader("sessions")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat})
	if err != nil {
		t.Fatal(err)
	}
	last := appendAllT(t, j, benchPayloads(3, 0, 10))
	if err := p.Flush(context.Background(), last+1); err != nil {
		t.Fatal(err)
	}
	if hw, other, err := HighWater(dir); err != nil || hw != 1+highWaterStep || (other && bootID() != "") {
		t.Fatalf("while running: mark %d, other boot %v (%v), want %d of this boot", hw, other, err, 1+highWaterStep)
	}
	p.Stop()
	if hw, _, err := HighWater(dir); err != nil || hw != last+1 {
		t.Fatalf("after a clean stop: mark %d (%v), want %d", hw, err, last+1)
	}
	if err := os.WriteFile(highWaterPath(dir), []byte("garbage"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := HighWater(dir); err == nil {
		t.Fatal("a damaged mark read without an error")
	}
}
