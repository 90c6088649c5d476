package eventgate

import (
	"regexp"
	"sync"
	"testing"
	"time"
)

var uuidV7 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// Ids carved from shared blocks by concurrent callers are well-formed,
// distinct, carry their time, and never change once handed out.
func TestIDSourceConcurrent(t *testing.T) {
	var src idSource
	const workers, each = 8, 2000
	at := time.UnixMilli(1_750_000_000_123)
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				got[w] = append(got[w], src.newAt(at))
			}
		}()
	}
	wg.Wait()
	seen := make(map[string]bool, workers*each)
	copies := make(map[string]string)
	for _, ids := range got {
		for _, id := range ids {
			if !uuidV7.MatchString(id) {
				t.Fatalf("malformed id %q", id)
			}
			if id[:8]+id[9:13] != "01977420dc7b" {
				t.Fatalf("id %q does not carry its time (want 01977420-dc7b…)", id)
			}
			if seen[id] {
				t.Fatalf("id %q handed out twice", id)
			}
			seen[id] = true
			copies[id] = string([]byte(id))
		}
	}
	for range 10 * idBlockSize / idLen {
		src.newAt(at)
	}
	for id, c := range copies {
		if id != c {
			t.Fatalf("id changed after later ids were made: %q, was %q", id, c)
		}
	}
	if !uuidV7.MatchString(NewID()) {
		t.Fatal("NewID is malformed")
	}
}
