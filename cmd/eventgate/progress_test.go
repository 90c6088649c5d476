package main

import (
	"bytes"
	"testing"
	"time"
)

func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	p := newProgressBar(&out, "rebuilding", func() time.Time { return now })
	now = now.Add(time.Second)
	p.update(25, 100)
	want := "\rrebuilding [#######.......................] 25/100 sessions, 3s left\x1b[K"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
	out.Reset()
	now = now.Add(50 * time.Millisecond)
	p.update(26, 100) // within a tenth of a second of the last: not drawn
	if out.Len() != 0 {
		t.Fatalf("drew again after 50 ms: %q", out.String())
	}
	now = now.Add(3 * time.Second)
	p.update(100, 100) // the last is always drawn, and ends the line
	want = "\rrebuilding [##############################] 100/100 sessions, took 4.05s\x1b[K\n"
	if out.String() != want {
		t.Fatalf("got %q\nwant %q", out.String(), want)
	}
}
