//go:build unix

package server

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// The stored-sessions benchmarks measure what an archive of many sessions
// costs a reader: the first page of GET /v1/sessions, a page deep in the
// listing, a prefix search, Open with the catalog present, and the catalog's
// rebuild from the session files.
//
// EVENTGATE_BENCH_STORED lists the archive sizes (comma-separated session
// counts, default 10000); EVENTGATE_BENCH_ARCHIVE names a directory where the
// archives are built once and kept for later runs (default: a temporary
// directory removed at the end). Each session holds one 256-byte event.
func BenchmarkStoredSessions(b *testing.B) {
	sizes := []int{10_000}
	if v := os.Getenv("EVENTGATE_BENCH_STORED"); v != "" {
		sizes = sizes[:0]
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("EVENTGATE_BENCH_STORED: %q is not a session count", f)
			}
			sizes = append(sizes, n)
		}
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			dir := storedArchive(b, n)
			b.Run("first-page", func(b *testing.B) { benchListing(b, dir, "/v1/sessions?limit=100") })
			b.Run("deep-page", func(b *testing.B) {
				benchListing(b, dir, "/v1/sessions?limit=100&cursor="+deepCursor(b, dir, n/2))
			})
			b.Run("prefix", func(b *testing.B) {
				benchListing(b, dir, "/v1/sessions?limit=100&prefix="+storedID(n / 3)[:len(storedID(0))-2])
			})
			b.Run("open", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					g := openStored(b, dir)
					if err := g.Close(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
			// After a crash the catalog has no seal, so Open runs SQLite's
			// structural check of every page.
			b.Run("open-after-crash", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					if err := os.Remove(eventgate.CatalogPath(dir) + ".seal"); err != nil && !os.IsNotExist(err) {
						b.Fatal(err)
					}
					g := openStored(b, dir)
					if err := g.Close(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("rebuild", func(b *testing.B) {
				defer reportCPU(b)()
				for b.Loop() {
					if err := os.Remove(eventgate.CatalogPath(dir)); err != nil {
						b.Fatal(err)
					}
					g := openStored(b, dir)
					if err := g.Close(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "sessions/s")
			})
		})
	}
}

func storedID(i int) string { return fmt.Sprintf("s-%08d", i) }

func openStored(b *testing.B, dir string) *eventgate.Gateway {
	b.Helper()
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// storedArchive returns a Gateway directory holding n sessions of one event
// each, last active in the order of their ids, building it when it is not
// there yet.
func storedArchive(b *testing.B, n int) string {
	b.Helper()
	root := os.Getenv("EVENTGATE_BENCH_ARCHIVE")
	if root == "" {
		root = b.TempDir()
	}
	dir := filepath.Join(root, fmt.Sprintf("stored-%d", n))
	done := filepath.Join(dir, ".built")
	if _, err := os.Stat(done); err == nil {
		return dir
	}
	if err := os.RemoveAll(dir); err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	pad := strings.Repeat("x", 200)
	const producers = 4
	var wg sync.WaitGroup
	errs := make(chan error, producers)
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := p; i < n; i += producers {
				ev := &eventgate.Event{SessionID: storedID(i), Type: "message", Time: base.Add(time.Duration(i) * time.Millisecond),
					Data: []byte(`{"text":"` + pad + `"}`)}
				if err := g.Log(ctx, ev); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatal(err)
	}
	if err := g.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := g.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Logf("built %d sessions in %v", n, time.Since(start).Round(time.Millisecond))
	return dir
}

// deepCursor returns the cursor of the page that starts at the listing's
// skip-th session.
func deepCursor(b *testing.B, dir string, skip int) string {
	b.Helper()
	g := openStored(b, dir)
	defer func() { _ = g.Close(context.Background()) }()
	q := eventgate.SessionQuery{Limit: eventgate.MaxSessionPage}
	for skip > 0 {
		q.Limit = min(skip, eventgate.MaxSessionPage)
		p, err := g.ListSessions(context.Background(), q)
		if err != nil {
			b.Fatal(err)
		}
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
		skip -= len(p.Sessions)
	}
	return q.Cursor
}

// benchListing times GET path against a server over dir and reports the
// median and 99th percentile of the answers' latency.
func benchListing(b *testing.B, dir, path string) {
	g := openStored(b, dir)
	defer func() { _ = g.Close(context.Background()) }()
	s, err := New(g, Options{NoAuth: true})
	if err != nil {
		b.Fatal(err)
	}
	var lat []time.Duration
	for b.Loop() {
		t := time.Now()
		w := httptest.NewRecorder()
		s.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		lat = append(lat, time.Since(t))
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"id":"s-`) {
			b.Fatalf("GET %s: %d %.200s", path, w.Code, w.Body.String())
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// reportCPU reports the process's CPU time (user and system) per operation
// between its call and the call of the function it returns: on a loaded
// machine it says more than the elapsed time does.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() { b.ReportMetric(float64((cpuTime()-start).Microseconds())/1000/float64(b.N), "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
