package server

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// waitFor polls cond until it holds, and fails the test when it still does
// not after two minutes (a condition, not a timing: a loaded machine meets
// it in well under that).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 2 minutes", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// Issue 12, scenario 4: under every sync policy a full disk answers 507 with
// Retry-After and no server path, /readyz is 503 while the journal cannot
// write, and ingest works again by itself once space returns, with every
// acknowledged event kept.
func TestDiskFull(t *testing.T) {
	for _, pol := range []eventgate.SyncPolicy{eventgate.SyncAlways, eventgate.SyncInterval(time.Millisecond), eventgate.SyncNever} {
		t.Run(pol.String(), func(t *testing.T) {
			var full atomic.Bool
			fault := func(int) error {
				if full.Load() {
					return fmt.Errorf("write: %w", syscall.ENOSPC)
				}
				return nil
			}
			e := newEnv(t, Options{}, eventgate.WithSync(pol), eventgate.WithWriteFault(fault))
			acked := 0
			post := func(i int) (int, []byte, http.Header) {
				code, b, h := e.do("POST", "/v1/events", ingestToken, "application/json",
					strings.NewReader(fmt.Sprintf(`{"session_id":"full","type":"t","data":{"i":%d}}`, i)))
				if accepted(code) {
					acked++
				}
				return code, b, h
			}
			ready := func() (int, []byte) {
				code, b, _ := e.do("GET", "/readyz", "", "", nil)
				return code, b
			}
			if code, b, _ := post(0); !accepted(code) {
				t.Fatalf("post: %d %s", code, b)
			}

			full.Store(true)
			var code int
			var body []byte
			var hdr http.Header
			for i := 1; ; i++ {
				// Under a relaxed policy a few posts may be acknowledged
				// before the writer meets the full disk.
				if code, body, hdr = post(i); !accepted(code) {
					break
				}
			}
			if code != http.StatusInsufficientStorage || hdr.Get("Retry-After") == "" {
				t.Fatalf("post on a full disk: %d (Retry-After %q) %s, want 507 with Retry-After", code, hdr.Get("Retry-After"), body)
			}
			if strings.Contains(string(body), e.dir) || strings.Contains(string(body), "/") {
				t.Fatalf("the answer shows a server path: %s", body)
			}
			rc, rb := ready()
			if rc != http.StatusServiceUnavailable {
				t.Fatalf("/readyz on a full disk: %d %s, want 503", rc, rb)
			}
			if strings.Contains(string(rb), "/") {
				t.Fatalf("/readyz shows a server path: %s", rb)
			}

			full.Store(false)
			waitFor(t, "/readyz to answer 200 once space is back", func() bool {
				c, _ := ready()
				return c == http.StatusOK
			})
			if code, b, _ := post(1_000_000); !accepted(code) {
				t.Fatalf("post after space returned: %d %s", code, b)
			}
			e.flush()
			if got := len(e.events("full", "")); got != acked {
				t.Fatalf("read %d events, want the %d acknowledged", got, acked)
			}
		})
	}
}
