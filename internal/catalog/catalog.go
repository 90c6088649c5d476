// Package catalog is the session catalog: an embedded index of the session
// files, kept by the session projector in step with its journal cursor, so
// that listing, paging and seeking cost the same at 10 sessions and at
// 1,000,000.
//
// Per session it holds the earliest and latest event time, the event count,
// the bytes of its files, the first and last seq, the event types seen, its
// files, and sparse seek points ("blocks") into each file. It is derived
// data: the session files are the truth, and the catalog can always be
// rebuilt from them (see sessions.Rebuild).
//
// The store is SQLite (modernc.org/sqlite, pure Go, no cgo) in WAL mode:
//   - other processes read it while the daemon writes it (the command-line
//     read commands work next to a running daemon), which the single-writer
//     file locks of bbolt and Pebble do not allow;
//   - keyset paging over (latest activity, id), id-prefix and has-type
//     filters are plain indexed queries;
//   - every write is one transaction, so a crash leaves the catalog as of
//     its last commit, and the projector commits its cursor only after that.
package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite"
)

// BlockSize is the spacing of seek points in a session file: a reader that
// starts at a block reads at most about this many bytes before its answer.
const BlockSize = 64 << 10

// schemaVersion names the layout below; a catalog of another version is
// rebuilt.
const schemaVersion = 1

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions (
	id        TEXT PRIMARY KEY,
	first_ns  INTEGER NOT NULL,
	last_ns   INTEGER NOT NULL,
	count     INTEGER NOT NULL,
	bytes     INTEGER NOT NULL,
	first_seq INTEGER NOT NULL,
	last_seq  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS sessions_by_last ON sessions (last_ns DESC, id);
CREATE TABLE IF NOT EXISTS types (
	session TEXT NOT NULL,
	type    TEXT NOT NULL,
	PRIMARY KEY (session, type)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS types_by_type ON types (type, session);
CREATE TABLE IF NOT EXISTS files (
	session   TEXT NOT NULL,
	first_seq INTEGER NOT NULL,
	PRIMARY KEY (session, first_seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS blocks (
	session   TEXT NOT NULL,
	file      INTEGER NOT NULL,
	first_off INTEGER NOT NULL,
	end_off   INTEGER NOT NULL,
	first_seq INTEGER NOT NULL,
	min_ns    INTEGER NOT NULL,
	max_ns    INTEGER NOT NULL,
	PRIMARY KEY (session, file, first_off)
) WITHOUT ROWID;
`

// ErrDamaged is matched by errors of a catalog that cannot be used as it is
// (unreadable, truncated, of another layout); the remedy is a rebuild.
var ErrDamaged = errors.New("catalog: damaged")

// Options configure Open.
type Options struct {
	// ReadOnly opens an existing catalog for queries only; it fails when
	// the file does not exist, and never creates anything.
	ReadOnly bool
	// Durable makes every commit reach stable storage before it returns
	// (SQLite synchronous=FULL); otherwise commits survive a process crash
	// but the last ones may be lost to a power cut.
	Durable bool
}

// Catalog is an open session catalog. It is safe for concurrent use; writes
// are serialized.
type Catalog struct {
	db     *sql.DB // writes (and everything, when read-only)
	r      *sql.DB // reads
	path   string
	ro     bool
	sync   string // the writer's synchronous setting: FULL or NORMAL
	sealed bool   // the file matched the seal of its last clean close
	broken atomic.Bool
}

// MarkBroken records that the catalog was found damaged while in use: its
// users stop relying on it (see Broken).
func (c *Catalog) MarkBroken() { c.broken.Store(true) }

// Broken reports whether MarkBroken was called.
func (c *Catalog) Broken() bool { return c.broken.Load() }

// Open opens (or, unless read-only, creates) the catalog at path. An error
// matching ErrDamaged means the file exists but cannot be used.
func Open(ctx context.Context, path string, o Options) (*Catalog, error) {
	if o.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("catalog: open %s: %w", path, err)
		}
	}
	var sealed bool
	if !o.ReadOnly {
		var err error
		if sealed, err = checkSeal(path); err != nil {
			return nil, err
		}
		if err := removeSeal(path); err != nil {
			return nil, err
		}
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	if o.ReadOnly {
		q.Set("mode", "ro")
	} else {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous("+syncMode(o.Durable)+")")
	}
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("catalog: open %s: %w", path, err)
	}
	c := &Catalog{db: db, r: db, path: path, ro: o.ReadOnly, sync: syncMode(o.Durable), sealed: sealed}
	if o.ReadOnly {
		db.SetMaxOpenConns(4)
	} else {
		// One connection writes (writes are serialized anyway); others
		// read beside it, which WAL allows without waiting for the writer.
		db.SetMaxOpenConns(1)
	}
	if err := c.init(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	if !o.ReadOnly {
		rq := url.Values{}
		rq.Add("_pragma", "busy_timeout(10000)")
		rq.Set("mode", "ro")
		if c.r, err = sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+rq.Encode()); err != nil {
			_ = db.Close()
			return nil, fmt.Errorf("catalog: open %s: %w", path, err)
		}
		c.r.SetMaxOpenConns(4)
	}
	return c, nil
}

func syncMode(durable bool) string {
	if durable {
		return "FULL"
	}
	return "NORMAL"
}

func (c *Catalog) init(ctx context.Context) error {
	if !c.ro {
		if _, err := c.db.ExecContext(ctx, schema); err != nil {
			return damaged("create schema", err)
		}
		if _, err := c.db.ExecContext(ctx,
			`INSERT INTO meta (key, value) VALUES ('version', ?) ON CONFLICT (key) DO NOTHING`, schemaVersion); err != nil {
			return damaged("write version", err)
		}
	}
	var v int64
	if err := c.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'version'`).Scan(&v); err != nil {
		return damaged("read version", err)
	}
	if v != schemaVersion {
		return fmt.Errorf("%w: layout version %d, want %d", ErrDamaged, v, schemaVersion)
	}
	return nil
}

// Sealed reports whether Open found the file exactly as the last clean Close
// left it, so that Check can be skipped.
func (c *Catalog) Sealed() bool { return c.sealed }

// Check runs SQLite's structural check of every page; an error matching
// ErrDamaged describes what it found.
func (c *Catalog) Check(ctx context.Context) error {
	rows, err := c.r.QueryContext(ctx, `PRAGMA quick_check`)
	if err != nil {
		return damaged("check", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return damaged("check", err)
		}
		if s != "ok" {
			problems = append(problems, s)
		}
	}
	if err := rows.Err(); err != nil {
		return damaged("check", err)
	}
	if len(problems) > 0 {
		if len(problems) > 3 {
			problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
		}
		return fmt.Errorf("%w: %s", ErrDamaged, strings.Join(problems, "; "))
	}
	return nil
}

// damaged wraps err, marking SQLite's reports of an unusable file.
func damaged(op string, err error) error {
	msg := err.Error()
	for _, s := range []string{"malformed", "not a database", "corrupt", "no such table", "disk image", "file is encrypted"} {
		if strings.Contains(msg, s) {
			return fmt.Errorf("%w: %s: %v", ErrDamaged, op, err)
		}
	}
	return fmt.Errorf("catalog: %s: %w", op, err)
}

// Path returns the catalog's file.
func (c *Catalog) Path() string { return c.path }

// Close closes the catalog. A writable catalog that is not broken is
// checkpointed and sealed (see Sealed), so that the next Open can trust it
// without a full check.
func (c *Catalog) Close() error {
	var errs []error
	seal := !c.ro && !c.Broken()
	if seal {
		if err := c.checkpoint(context.Background()); err != nil {
			errs = append(errs, err)
			seal = false
		}
	}
	if c.r != c.db {
		errs = append(errs, c.r.Close())
	}
	errs = append(errs, c.db.Close())
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("catalog: close: %w", err)
	}
	if seal {
		return writeSeal(c.path, c.sync == "FULL")
	}
	return nil
}

// Remove deletes a catalog file with its WAL and shared-memory files.
func Remove(path string) error {
	var errs []error
	for _, p := range []string{sealPath(path), path, path + "-wal", path + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("catalog: remove: %w", err))
		}
	}
	return errors.Join(errs...)
}
