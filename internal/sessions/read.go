package sessions

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
)

const fileExt = ".jsonl"

func fileName(first uint64) string { return fmt.Sprintf("%020d%s", first, fileExt) }

// listFiles returns the first seqs of a session's files, ascending.
func listFiles(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("sessions: list %s: %w", filepath.Base(dir), err)
	}
	var out []uint64
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		out = append(out, n)
	}
	slices.Sort(out)
	return out, nil
}

// Info summarizes one session.
type Info struct {
	ID    string
	First time.Time // time of the earliest event
	Last  time.Time // time of the latest event: the session's last activity
	Count int       // events recorded
	Bytes int64     // size of its files
	Types []string  // event types seen, sorted (when the catalog is kept)
}

// Store reads the session files under a directory, through the session
// catalog when it has one that is not broken. It is safe for concurrent use,
// also while a Projector writes.
type Store struct {
	dir   string
	valid func(string) error
	cat   *catalog.Catalog

	mu     sync.Mutex
	counts map[string]countCache // file path → line count at a size
}

type countCache struct {
	size  int64
	lines int
}

// NewStore returns a Store for dir. valid filters directory names that are
// not session ids (such as the .eventgate directory). cat may be nil: then
// listing reads every session file.
func NewStore(dir string, valid func(string) error, cat *catalog.Catalog) *Store {
	return &Store{dir: dir, valid: valid, cat: cat, counts: make(map[string]countCache)}
}

// catalog returns the catalog when it can be used.
func (s *Store) catalog() *catalog.Catalog {
	if s.cat == nil || s.cat.Broken() {
		return nil
	}
	return s.cat
}

// Catalog returns the catalog when it can be used, or nil.
func (s *Store) Catalog() *catalog.Catalog { return s.catalog() }

// HasCatalog reports whether listing is served by the catalog.
func (s *Store) HasCatalog() bool { return s.catalog() != nil }

// Page returns a page of sessions that match q, newest activity first.
func (s *Store) Page(ctx context.Context, q catalog.Query) (catalog.Page, error) {
	if c := s.catalog(); c != nil {
		return c.List(ctx, q)
	}
	return s.scanPage(ctx, q)
}

// Info summarizes session id; ok is false when it has no events.
func (s *Store) Info(id string) (Info, bool, error) {
	if err := s.valid(id); err != nil {
		return Info{}, false, err
	}
	if c := s.catalog(); c != nil {
		cs, ok, err := c.Get(context.Background(), id)
		if err != nil || !ok {
			return Info{}, false, err
		}
		return InfoOf(cs), true, nil
	}
	return s.scanInfo(id)
}

// InfoOf converts a catalog row.
func InfoOf(cs catalog.Session) Info {
	return Info{ID: cs.ID, First: time.Unix(0, cs.FirstNs).UTC(), Last: time.Unix(0, cs.LastNs).UTC(),
		Count: int(cs.Count), Bytes: cs.Bytes, Types: cs.Types}
}

// scanPage answers q by reading every session's files: the way without a
// catalog.
func (s *Store) scanPage(ctx context.Context, q catalog.Query) (catalog.Page, error) {
	ents, err := os.ReadDir(s.dir)
	if errors.Is(err, fs.ErrNotExist) {
		return catalog.Page{}, nil
	}
	if err != nil {
		return catalog.Page{}, fmt.Errorf("sessions: list: %w", err)
	}
	var all []Info
	for _, e := range ents {
		if err := ctx.Err(); err != nil {
			return catalog.Page{}, err
		}
		if !e.IsDir() || s.valid(e.Name()) != nil || !strings.HasPrefix(e.Name(), q.Prefix) {
			continue
		}
		info, ok, err := s.scanInfo(e.Name())
		if err != nil {
			return catalog.Page{}, err
		}
		if !ok || (q.ActiveSince != 0 && info.Last.UnixNano() < q.ActiveSince) ||
			(q.ActiveUntil != 0 && info.Last.UnixNano() >= q.ActiveUntil) {
			continue
		}
		if q.Type != "" || q.WithTypes {
			if info.Types, err = s.scanTypes(ctx, info.ID); err != nil {
				return catalog.Page{}, err
			}
			if q.Type != "" && !slices.Contains(info.Types, q.Type) {
				continue
			}
		}
		all = append(all, info)
	}
	slices.SortFunc(all, func(a, b Info) int {
		if c := b.Last.Compare(a.Last); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	page := catalog.Page{Total: int64(len(all))}
	start := 0
	if q.After != nil {
		start = len(all)
		for i, in := range all {
			if ns := in.Last.UnixNano(); ns < q.After.LastNs || (ns == q.After.LastNs && in.ID > q.After.ID) {
				start = i
				break
			}
		}
	}
	end := min(start+max(q.Limit, 1), len(all))
	for _, in := range all[start:end] {
		page.Sessions = append(page.Sessions, catalog.Session{ID: in.ID, FirstNs: in.First.UnixNano(),
			LastNs: in.Last.UnixNano(), Count: int64(in.Count), Bytes: in.Bytes, Types: in.Types})
	}
	if end < len(all) && end > start {
		last := all[end-1]
		page.Next = &catalog.Position{LastNs: last.Last.UnixNano(), ID: last.ID}
	}
	return page, nil
}

func (s *Store) scanTypes(ctx context.Context, id string) ([]string, error) {
	var types []string
	err := s.Scan(ctx, id, Filter{}, func(e Entry) error {
		if !slices.Contains(types, e.Type) {
			types = append(types, e.Type)
		}
		return nil
	})
	slices.Sort(types)
	return types, err
}

// scanInfo summarizes session id from its files.
func (s *Store) scanInfo(id string) (Info, bool, error) {
	dir := filepath.Join(s.dir, id)
	files, err := listFiles(dir)
	if err != nil || len(files) == 0 {
		return Info{}, false, err
	}
	info := Info{ID: id}
	for i, first := range files {
		path := filepath.Join(dir, fileName(first))
		n, size, err := s.countLines(path)
		if err != nil {
			return Info{}, false, err
		}
		info.Count += n
		info.Bytes += size
		if i == 0 && n > 0 {
			if info.First, err = firstTime(path); err != nil {
				return Info{}, false, err
			}
		}
	}
	for i := len(files) - 1; i >= 0 && info.Last.IsZero(); i-- {
		path := filepath.Join(dir, fileName(files[i]))
		f, err := os.Open(path)
		if err != nil {
			return Info{}, false, fmt.Errorf("sessions: open %s: %w", id, err)
		}
		fi, _ := f.Stat()
		line, start, err := lastLine(f, fi.Size())
		if err == nil && start >= 0 && line[len(line)-1] != '\n' {
			// A line still being written: take the one before it.
			line, start, err = lastLine(f, start)
		}
		_ = f.Close()
		if err != nil {
			return Info{}, false, err
		}
		if start >= 0 {
			if m, err := parseLineMeta(line); err == nil {
				info.Last = m.Time
			}
		}
	}
	if info.Count == 0 {
		return Info{}, false, nil
	}
	return info, true, nil
}

// countLines counts the whole lines of path, caching by size: files only grow
// by whole lines, so a cached count at a smaller size is extended.
func (s *Store) countLines(path string) (int, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, fmt.Errorf("sessions: open %s: %w", path, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	s.mu.Lock()
	c, ok := s.counts[path]
	s.mu.Unlock()
	var from int64
	lines := 0
	if ok && c.size <= fi.Size() {
		from, lines = c.size, c.lines
	}
	if from < fi.Size() {
		buf := make([]byte, 256<<10)
		off := from
		last := from
		for off < fi.Size() {
			n, err := f.ReadAt(buf[:min(int64(len(buf)), fi.Size()-off)], off)
			for i, c := range buf[:n] {
				if c == '\n' {
					lines++
					last = off + int64(i) + 1
				}
			}
			off += int64(n)
			if err != nil && !errors.Is(err, io.EOF) {
				return 0, 0, err
			}
			if n == 0 {
				break
			}
		}
		s.mu.Lock()
		s.counts[path] = countCache{size: last, lines: lines}
		s.mu.Unlock()
	}
	return lines, fi.Size(), nil
}

// firstTime returns the time of the first line of path that parses: a
// damaged first line (reported by readers as damage) does not make the
// session unreadable.
func firstTime(path string) (time.Time, error) {
	f, err := os.Open(path)
	if err != nil {
		return time.Time{}, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return time.Time{}, nil // no whole line that parses
		}
		if m, err := parseLineMeta(line); err == nil && m.Seq > 0 {
			return m.Time, nil
		}
	}
}

// Filter selects entries of one session. Zero fields select everything.
type Filter struct {
	Type     string
	Since    time.Time // inclusive
	Until    time.Time // exclusive
	AfterSeq uint64
	Limit    int
}

func (f *Filter) match(e *Entry) bool {
	if e.Seq <= f.AfterSeq {
		return false
	}
	if f.Type != "" && e.Type != f.Type {
		return false
	}
	if !f.Since.IsZero() && e.Time.Before(f.Since) {
		return false
	}
	if !f.Until.IsZero() && !e.Time.Before(f.Until) {
		return false
	}
	return true
}

// Read returns session id's entries that match f, in seq order.
func (s *Store) Read(ctx context.Context, id string, f Filter) ([]Entry, error) {
	var out []Entry
	err := s.Scan(ctx, id, f, func(e Entry) error {
		out = append(out, e)
		return nil
	})
	return out, err
}

var errStop = errors.New("stop")

// Scan calls fn for each of session id's entries that match f, in seq order.
// Lines that are not yet complete are not returned.
func (s *Store) Scan(ctx context.Context, id string, f Filter, fn func(Entry) error) error {
	fw, err := s.Follower(id, f.AfterSeq)
	if err != nil {
		return err
	}
	if !f.Since.IsZero() {
		fw.since = f.Since.UnixNano()
	}
	n := 0
	err = fw.Read(ctx, func(e Entry) error {
		if !f.match(&e) {
			return nil
		}
		if err := fn(e); err != nil {
			return err
		}
		n++
		if f.Limit > 0 && n >= f.Limit {
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		return nil
	}
	return err
}
