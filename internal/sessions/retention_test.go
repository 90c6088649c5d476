package sessions

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/record"
)

// TestRetentionRunsInBackground: with a retention bound set, the projector
// deletes whole sessions by itself, least recently active first, until the
// bound holds; the files, the catalog's rows and totals, and the pruned
// count all follow, and the sessions kept are untouched.
func TestRetentionRunsInBackground(t *testing.T) {
	const sessions = 100
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	now := base.Add(sessions * time.Hour) // session i was last active i hours after base
	cases := map[string]struct {
		ret  func(perSession int64) Retention
		keep int // the most recent sessions kept
	}{
		"max age": {func(int64) Retention { return Retention{MaxAge: 40*time.Hour + time.Minute} }, 40},
		"max bytes": {func(perSession int64) Retention {
			return Retention{MaxBytes: 25*perSession + perSession/2}
		}, 25},
		"both": {func(perSession int64) Retention {
			return Retention{MaxAge: 60*time.Hour + time.Minute, MaxBytes: 30 * perSession}
		}, 30},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			ctx := context.Background()
			j, cat := openStores(t, dir)

			// Record the sessions first, with no retention, to learn their
			// size: the same for every session (the padding makes up for
			// the seq's digits).
			var payloads [][]byte
			for i := range sessions {
				for k := range 3 {
					seq := len(payloads) + 1
					pad := strings.Repeat("x", 3-len(strconv.Itoa(seq)))
					payloads = append(payloads, record.Append(nil, &record.Fields{
						TimeNanos: base.Add(time.Duration(i)*time.Hour - time.Duration(2-k)*time.Minute).UnixNano(),
						ID:        fmt.Sprintf("e%03d-%d", i, k), Session: fmt.Sprintf("r-%03d", i), Type: "message",
						Data: []byte(`{"text":"` + pad + `"}`)}))
				}
			}
			last := appendAllT(t, j, payloads)
			project(t, dir, j, cat, Retention{}, last)
			_, bytes, _, err := cat.Totals(ctx)
			if err != nil {
				t.Fatal(err)
			}
			perSession := bytes / sessions
			for i := range sessions {
				if cs, _, err := cat.Get(ctx, fmt.Sprintf("r-%03d", i)); err != nil || cs.Bytes != perSession {
					t.Fatalf("session %d: %d bytes (%v), want %d like every other", i, cs.Bytes, err, perSession)
				}
			}

			r, err := j.OpenReader("sessions")
			if err != nil {
				t.Fatal(err)
			}
			ret := c.ret(perSession)
			ret.Every, ret.Now = time.Millisecond, func() time.Time { return now }
			p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat, Retention: ret})
			if err != nil {
				t.Fatal(err)
			}
			defer p.Stop()
			want := sessions - c.keep
			waitChange(t, p, fmt.Sprintf("retention to delete %d sessions", want), func() bool { return p.Pruned() >= uint64(want) })
			if err := p.Flush(ctx, last+1); err != nil {
				t.Fatal(err)
			}
			if got := p.Pruned(); got != uint64(want) {
				t.Fatalf("pruned %d sessions, want %d", got, want)
			}
			n, b, events, err := cat.Totals(ctx)
			if err != nil || n != int64(c.keep) || b != int64(c.keep)*perSession || events != int64(3*c.keep) {
				t.Fatalf("catalog totals %d sessions, %d bytes, %d events (%v); want %d, %d, %d",
					n, b, events, err, c.keep, int64(c.keep)*perSession, 3*c.keep)
			}
			st := NewStore(dir, func(string) error { return nil }, cat)
			page, err := st.Page(ctx, catalog.Query{Limit: sessions})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range page.Sessions {
				got = append(got, s.ID)
			}
			var wantIDs []string
			for i := sessions - 1; i >= sessions-c.keep; i-- {
				wantIDs = append(wantIDs, fmt.Sprintf("r-%03d", i))
			}
			if !slices.Equal(got, wantIDs) {
				t.Fatalf("sessions kept: %v\nwant %v", got, wantIDs)
			}
			for i := range sessions {
				id := fmt.Sprintf("r-%03d", i)
				_, err := os.Stat(filepath.Join(dir, id))
				if kept := i >= sessions-c.keep; kept != (err == nil) {
					t.Errorf("%s: kept %v, but its directory: %v", id, kept, err)
				}
				if i >= sessions-c.keep {
					if es, err := st.Read(ctx, id, Filter{}); err != nil || len(es) != 3 {
						t.Errorf("%s: %d events (%v), want its 3", id, len(es), err)
					}
				}
			}
			if ents, err := os.ReadDir(p.trashDir()); err != nil || len(ents) != 0 {
				t.Errorf("trash holds %d entries (%v), want none", len(ents), err)
			}
		})
	}
}

// project runs a projector over j with ret until it has written every
// record up to last, and stops it.
func project(t *testing.T, dir string, j *journal.Journal, cat *catalog.Catalog, ret Retention, last uint64) {
	t.Helper()
	r, err := j.OpenReader("sessions")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat, Retention: ret})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	if err := p.Flush(context.Background(), last+1); err != nil {
		t.Fatal(err)
	}
}

// TestNewSessionsListedBeforeTheCommit: with a commit interval far longer
// than the test, only the early catalog write for new sessions can make a
// listing find them.
func TestNewSessionsListedBeforeTheCommit(t *testing.T) {
	dir := t.TempDir()
	j, cat := openStores(t, dir)
	r, err := j.OpenReader("sessions")
	if err != nil {
		t.Fatal(err)
	}
	p, err := Start(Config{Dir: dir, Journal: j, Reader: r, Catalog: cat, CommitEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	for i := range 3 {
		appendAllT(t, j, benchPayloads(1, i, 1)) // session bench-000000, then nothing new
		if i == 0 {
			waitListed(t, p, cat, 1)
		}
	}
	appendAllT(t, j, benchPayloads(5, 1, 4)) // four new sessions
	waitListed(t, p, cat, 5)
}

func waitListed(t *testing.T, p *Projector, cat *catalog.Catalog, n int) {
	t.Helper()
	var listed int
	waitChange(t, p, fmt.Sprintf("%d sessions listed", n), func() bool {
		pg, err := cat.List(context.Background(), catalog.Query{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		listed = len(pg.Sessions)
		return listed == n
	})
}

// waitChange waits until cond holds, checking it after each change the
// projector signals (a write, a commit, a deletion); the test's own
// deadline bounds the wait.
func waitChange(t *testing.T, p *Projector, what string, cond func() bool) {
	t.Helper()
	ctx := context.Background()
	if d, ok := t.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-5*time.Second))
		defer cancel()
	}
	for {
		p.mu.Lock()
		ch := p.changed
		p.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			t.Fatalf("still waiting for %s at the test's deadline", what)
		}
	}
}

// openStores opens a journal (never synced) and a catalog under dir, closed
// when the test ends.
func openStores(t *testing.T, dir string) (*journal.Journal, *catalog.Catalog) {
	t.Helper()
	j, _, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), journal.Options{Sync: journal.SyncNever})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = j.Close() })
	cat, err := catalog.Open(context.Background(), filepath.Join(dir, ".eventgate", "catalog.db"), catalog.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cat.Close() })
	return j, cat
}
