package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"
)

// Session is what the catalog knows of one session.
type Session struct {
	ID       string
	FirstNs  int64 // earliest event time, Unix ns
	LastNs   int64 // latest event time: the session's last activity
	Count    int64
	Bytes    int64
	FirstSeq uint64
	LastSeq  uint64
	Types    []string // sorted; filled by Get, and by List when asked
	Files    []uint64 // first seqs, ascending; filled by Get
}

// Position is a place in the listing order: latest activity descending,
// then id ascending.
type Position struct {
	LastNs int64
	ID     string
}

// Query selects a page of sessions, newest activity first.
type Query struct {
	Limit       int       // rows to return; at least 1
	After       *Position // continue after this row
	ActiveSince int64     // last activity at or after (Unix ns); 0 = any
	ActiveUntil int64     // last activity before; 0 = any
	Prefix      string    // id starts with
	Type        string    // has an event of this type
	WithTypes   bool      // fill Session.Types
}

// Page is one answer of List.
type Page struct {
	Sessions []Session
	Next     *Position // nil on the last page
	Total    int64     // sessions matching the query's filters, on every page
}

// List returns a page of the sessions that match q.
func (c *Catalog) List(ctx context.Context, q Query) (Page, error) {
	if q.Limit < 1 {
		return Page{}, errors.New("catalog: list: limit must be at least 1")
	}
	var where []string
	var args []any
	if q.ActiveSince != 0 {
		where, args = append(where, "last_ns >= ?"), append(args, q.ActiveSince)
	}
	if q.ActiveUntil != 0 {
		where, args = append(where, "last_ns < ?"), append(args, q.ActiveUntil)
	}
	if q.Prefix != "" {
		where, args = append(where, "id >= ?"), append(args, q.Prefix)
		if hi, ok := prefixEnd(q.Prefix); ok {
			where, args = append(where, "id < ?"), append(args, hi)
		}
	}
	if q.Type != "" {
		where, args = append(where, "id IN (SELECT session FROM types WHERE type = ?)"), append(args, q.Type)
	}
	filtered := len(where) > 0
	cond := func(extra ...string) string {
		all := append(append([]string(nil), where...), extra...)
		if len(all) == 0 {
			return ""
		}
		return " WHERE " + strings.Join(all, " AND ")
	}
	var page Page
	var err error
	if filtered {
		err = c.r.QueryRowContext(ctx, `SELECT count(*) FROM sessions`+cond(), args...).Scan(&page.Total)
	} else {
		err = c.r.QueryRowContext(ctx, `SELECT coalesce((SELECT value FROM meta WHERE key = 'sessions'), 0)`).Scan(&page.Total)
	}
	if err != nil {
		return Page{}, damaged("count sessions", err)
	}
	pargs := append([]any(nil), args...)
	var extra []string
	if q.After != nil {
		// The range term lets SQLite seek in sessions_by_last; the second
		// term orders ties by id.
		extra = append(extra, "last_ns <= ?", "(last_ns < ? OR id > ?)")
		pargs = append(pargs, q.After.LastNs, q.After.LastNs, q.After.ID)
	}
	pargs = append(pargs, q.Limit+1)
	rows, err := c.r.QueryContext(ctx, `SELECT id, first_ns, last_ns, count, bytes, first_seq, last_seq FROM sessions`+
		cond(extra...)+` ORDER BY last_ns DESC, id LIMIT ?`, pargs...)
	if err != nil {
		return Page{}, damaged("list sessions", err)
	}
	defer rows.Close()
	for rows.Next() {
		var s Session
		var fs, ls int64
		if err := rows.Scan(&s.ID, &s.FirstNs, &s.LastNs, &s.Count, &s.Bytes, &fs, &ls); err != nil {
			return Page{}, damaged("list sessions", err)
		}
		s.FirstSeq, s.LastSeq = uint64(fs), uint64(ls)
		page.Sessions = append(page.Sessions, s)
	}
	if err := rows.Err(); err != nil {
		return Page{}, damaged("list sessions", err)
	}
	if len(page.Sessions) > q.Limit {
		page.Sessions = page.Sessions[:q.Limit]
		last := page.Sessions[q.Limit-1]
		page.Next = &Position{LastNs: last.LastNs, ID: last.ID}
	}
	if q.WithTypes {
		for i := range page.Sessions {
			if page.Sessions[i].Types, err = c.types(ctx, page.Sessions[i].ID); err != nil {
				return Page{}, err
			}
		}
	}
	return page, nil
}

// prefixEnd returns the least string greater than every string with prefix
// p, if there is one.
func prefixEnd(p string) (string, bool) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < 0xff {
			b[i]++
			return string(b[:i+1]), true
		}
	}
	return "", false
}

// Get returns session id with its types and files; ok is false when the
// catalog does not hold it.
func (c *Catalog) Get(ctx context.Context, id string) (s Session, ok bool, err error) {
	var fs, ls int64
	err = c.r.QueryRowContext(ctx, `SELECT id, first_ns, last_ns, count, bytes, first_seq, last_seq FROM sessions WHERE id = ?`, id).
		Scan(&s.ID, &s.FirstNs, &s.LastNs, &s.Count, &s.Bytes, &fs, &ls)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, false, nil
	}
	if err != nil {
		return Session{}, false, damaged("get session", err)
	}
	s.FirstSeq, s.LastSeq = uint64(fs), uint64(ls)
	if s.Types, err = c.types(ctx, id); err != nil {
		return Session{}, false, err
	}
	rows, err := c.r.QueryContext(ctx, `SELECT first_seq FROM files WHERE session = ? ORDER BY first_seq`, id)
	if err != nil {
		return Session{}, false, damaged("get files", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f int64
		if err := rows.Scan(&f); err != nil {
			return Session{}, false, damaged("get files", err)
		}
		s.Files = append(s.Files, uint64(f))
	}
	if err := rows.Err(); err != nil {
		return Session{}, false, damaged("get files", err)
	}
	return s, true, nil
}

func (c *Catalog) types(ctx context.Context, id string) ([]string, error) {
	rows, err := c.r.QueryContext(ctx, `SELECT type FROM types WHERE session = ? ORDER BY type`, id)
	if err != nil {
		return nil, damaged("get types", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, damaged("get types", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, damaged("get types", err)
	}
	return out, nil
}

// SeekSeq returns an offset in session id's file that starts at seq file
// from which reading forward reaches the first line with a seq greater than
// after without passing it: the start of the last block whose first line is
// at or before it. It is 0 when the catalog knows no such block.
func (c *Catalog) SeekSeq(ctx context.Context, id string, file, after uint64) (int64, error) {
	if after >= math.MaxInt64 {
		after = math.MaxInt64 - 1
	}
	var off int64
	err := c.r.QueryRowContext(ctx, `SELECT first_off FROM blocks WHERE session = ? AND file = ? AND first_seq <= ?
		ORDER BY first_off DESC LIMIT 1`, id, int64(file), int64(after)+1).Scan(&off)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, damaged("seek", err)
	}
	return off, nil
}

// SeekTime returns an offset in session id's file (that starts at seq file)
// before which no line has a time at or after ns: the first place not
// covered by a block, or the first block whose latest time is at or after
// ns.
func (c *Catalog) SeekTime(ctx context.Context, id string, file uint64, ns int64) (int64, error) {
	rows, err := c.r.QueryContext(ctx, `SELECT first_off, end_off, max_ns FROM blocks WHERE session = ? AND file = ?
		ORDER BY first_off`, id, int64(file))
	if err != nil {
		return 0, damaged("seek", err)
	}
	defer rows.Close()
	var pos int64
	for rows.Next() {
		var first, end, maxNs int64
		if err := rows.Scan(&first, &end, &maxNs); err != nil {
			return 0, damaged("seek", err)
		}
		if first > pos {
			return pos, nil // lines here are not described by any block
		}
		if maxNs >= ns {
			return first, nil
		}
		pos = max(pos, end)
	}
	if err := rows.Err(); err != nil {
		return 0, damaged("seek", err)
	}
	return pos, nil
}

// Totals returns the sessions, bytes and events the catalog holds.
func (c *Catalog) Totals(ctx context.Context) (sessions, bytes, events int64, err error) {
	rows, err := c.r.QueryContext(ctx, `SELECT key, value FROM meta WHERE key IN ('sessions', 'bytes', 'events')`)
	if err != nil {
		return 0, 0, 0, damaged("totals", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v int64
		if err := rows.Scan(&k, &v); err != nil {
			return 0, 0, 0, damaged("totals", err)
		}
		switch k {
		case "sessions":
			sessions = v
		case "bytes":
			bytes = v
		case "events":
			events = v
		}
	}
	if err := rows.Err(); err != nil {
		return 0, 0, 0, damaged("totals", err)
	}
	return sessions, bytes, events, nil
}

// Complete reports whether MarkComplete was called: a catalog that is not
// complete (new, or a rebuild that was cut short) is rebuilt.
func (c *Catalog) Complete(ctx context.Context) (bool, error) {
	var v int64
	err := c.r.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'complete'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, damaged("read state", err)
	}
	return v == 1, nil
}

// MaxSeq returns the greatest seq of any session (0 when empty).
func (c *Catalog) MaxSeq(ctx context.Context) (uint64, error) {
	var v sql.NullInt64
	if err := c.r.QueryRowContext(ctx, `SELECT max(last_seq) FROM sessions`).Scan(&v); err != nil {
		return 0, damaged("max seq", err)
	}
	return uint64(v.Int64), nil
}

// Oldest returns up to limit sessions of least recent activity, oldest
// first (the listing order reversed), whose last activity is before ns (any,
// when ns is 0), after the position after when it is not nil.
func (c *Catalog) Oldest(ctx context.Context, ns int64, after *Position, limit int) ([]Session, error) {
	q := `SELECT id, last_ns, bytes FROM sessions`
	var where []string
	var args []any
	if ns != 0 {
		where, args = append(where, `last_ns < ?`), append(args, ns)
	}
	if after != nil {
		where = append(where, `last_ns >= ?`, `(last_ns > ? OR id < ?)`)
		args = append(args, after.LastNs, after.LastNs, after.ID)
	}
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY last_ns, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := c.r.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, damaged("oldest", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var s Session
		if err := rows.Scan(&s.ID, &s.LastNs, &s.Bytes); err != nil {
			return nil, damaged("oldest", err)
		}
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, damaged("oldest", err)
	}
	return out, nil
}

// String describes p for logs.
func (p Position) String() string { return fmt.Sprintf("%d/%s", p.LastNs, p.ID) }
