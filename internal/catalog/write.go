package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Delta is what one session's files gained since the catalog's last commit.
type Delta struct {
	ID       string
	New      bool  // the session had no files before these events
	Count    int64 // lines added
	Bytes    int64 // bytes added
	MinNs    int64 // earliest event time among them, Unix ns
	MaxNs    int64 // latest
	FirstSeq uint64
	LastSeq  uint64
	Files    []uint64 // files started (their first seqs)
	Types    []string // event types that may not be recorded yet
	Blocks   []Block  // seek points completed
}

// Block is a seek point into a session file: the line at FirstOff has seq
// FirstSeq (every later line of the file has a greater one), and every line
// that starts in [FirstOff, EndOff) has a time in [MinNs, MaxNs].
type Block struct {
	File     uint64 // the file's first seq
	FirstOff int64
	EndOff   int64
	FirstSeq uint64
	MinNs    int64
	MaxNs    int64
}

// rowsPerStatement is the rows of one multi-row INSERT. The driver binds
// parameters in time quadratic in their number per statement, so a few dozen
// rows a statement is the fastest: fewer statements than one a row, and
// little binding cost.
const rowsPerStatement = 32

// Apply records deltas in one transaction: all of them or, on error, none.
func (c *Catalog) Apply(ctx context.Context, deltas []*Delta) error {
	if len(deltas) == 0 {
		return nil
	}
	return c.tx(ctx, "apply", func(tx *sql.Tx) error { return applyTx(ctx, tx, deltas) })
}

func applyTx(ctx context.Context, tx *sql.Tx, deltas []*Delta) error {
	var newSessions, bytes, events int64
	var sess, types, files, blocks [][]any
	for _, d := range deltas {
		if d.New {
			newSessions++
		}
		bytes += d.Bytes
		events += d.Count
		if d.Count > 0 {
			sess = append(sess, []any{d.ID, d.MinNs, d.MaxNs, d.Count, d.Bytes, int64(d.FirstSeq), int64(d.LastSeq)})
		}
		for _, t := range d.Types {
			types = append(types, []any{d.ID, t})
		}
		for _, f := range d.Files {
			files = append(files, []any{d.ID, int64(f)})
		}
		for _, b := range d.Blocks {
			blocks = append(blocks, []any{d.ID, int64(b.File), b.FirstOff, b.EndOff, int64(b.FirstSeq), b.MinNs, b.MaxNs})
		}
	}
	if err := insertChunks(ctx, tx, `INSERT INTO sessions (id, first_ns, last_ns, count, bytes, first_seq, last_seq) VALUES `, 7, sess,
		` ON CONFLICT (id) DO UPDATE SET first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns),
		  count = count + excluded.count, bytes = bytes + excluded.bytes,
		  first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`); err != nil {
		return err
	}
	if err := insertChunks(ctx, tx, `INSERT INTO types (session, type) VALUES `, 2, types, ` ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	if err := insertChunks(ctx, tx, `INSERT INTO files (session, first_seq) VALUES `, 2, files, ` ON CONFLICT DO NOTHING`); err != nil {
		return err
	}
	if err := insertChunks(ctx, tx, `INSERT INTO blocks (session, file, first_off, end_off, first_seq, min_ns, max_ns) VALUES `, 7, blocks,
		` ON CONFLICT DO UPDATE SET end_off = max(end_off, excluded.end_off), min_ns = min(min_ns, excluded.min_ns), max_ns = max(max_ns, excluded.max_ns)`); err != nil {
		return err
	}
	return addTotals(ctx, tx, newSessions, bytes, events)
}

// MarkComplete records that the catalog describes every session file (a
// rebuild finished, or the catalog was created for an empty directory).
func (c *Catalog) MarkComplete(ctx context.Context) error {
	return c.tx(ctx, "mark complete", func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('complete', 1) ON CONFLICT (key) DO UPDATE SET value = 1`)
		return err
	})
}

// Delete removes sessions ids and everything recorded about them.
func (c *Catalog) Delete(ctx context.Context, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	return c.tx(ctx, "delete", func(tx *sql.Tx) error { return deleteTx(ctx, tx, ids) })
}

// Replace records d as everything session d.ID holds, in one transaction:
// what the catalog had of it is deleted and d applied as a new session.
func (c *Catalog) Replace(ctx context.Context, d *Delta) error {
	return c.tx(ctx, "replace", func(tx *sql.Tx) error {
		if err := deleteTx(ctx, tx, []string{d.ID}); err != nil {
			return err
		}
		nd := *d
		nd.New = true
		return applyTx(ctx, tx, []*Delta{&nd})
	})
}

func deleteTx(ctx context.Context, tx *sql.Tx, ids []string) error {
	var n, bytes, events int64
	for _, id := range ids {
		var b, e int64
		err := tx.QueryRowContext(ctx, `DELETE FROM sessions WHERE id = ? RETURNING bytes, count`, id).Scan(&b, &e)
		if err == sql.ErrNoRows {
			continue
		}
		if err != nil {
			return err
		}
		n, bytes, events = n+1, bytes+b, events+e
		for _, table := range []string{"types", "files", "blocks"} {
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE session = ?`, id); err != nil {
				return err
			}
		}
	}
	return addTotals(ctx, tx, -n, -bytes, -events)
}

func addTotals(ctx context.Context, tx *sql.Tx, sessions, bytes, events int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('sessions', ?), ('bytes', ?), ('events', ?)
		ON CONFLICT (key) DO UPDATE SET value = value + excluded.value`, sessions, bytes, events)
	return err
}

func (c *Catalog) tx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	if c.ro {
		return fmt.Errorf("catalog: %s: opened read-only", op)
	}
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return damaged(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return damaged(op, err)
	}
	if err := tx.Commit(); err != nil {
		return damaged(op+": commit", err)
	}
	return nil
}

// insertChunks inserts rows (each of cols values) by multi-row INSERTs of
// rowsPerStatement rows, prepared once, and one more for the rest.
func insertChunks(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string) error {
	if len(rows) >= rowsPerStatement {
		st, err := tx.PrepareContext(ctx, insertSQL(head, cols, rowsPerStatement, tail))
		if err != nil {
			return err
		}
		defer st.Close()
		args := make([]any, 0, rowsPerStatement*cols)
		for len(rows) >= rowsPerStatement {
			args = args[:0]
			for _, r := range rows[:rowsPerStatement] {
				args = append(args, r...)
			}
			if _, err := st.ExecContext(ctx, args...); err != nil {
				return err
			}
			rows = rows[rowsPerStatement:]
		}
	}
	return insertRows(ctx, tx, head, cols, rows, tail)
}

// insertRows runs one multi-row INSERT of rows (each of cols values).
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	args := make([]any, 0, len(rows)*cols)
	for _, r := range rows {
		args = append(args, r...)
	}
	_, err := tx.ExecContext(ctx, insertSQL(head, cols, len(rows), tail), args...)
	return err
}

// insertSQL is head, n parenthesized groups of cols parameters, and tail.
func insertSQL(head string, cols, n int, tail string) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	var b strings.Builder
	b.Grow(len(head) + n*(len(one)+1) + len(tail))
	b.WriteString(head)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
	}
	b.WriteString(tail)
	return b.String()
}

// secondaryIndexes are the indexes BeginLoad drops and EndLoad builds again.
var secondaryIndexes = []struct{ name, def string }{
	{"sessions_by_last", `CREATE INDEX IF NOT EXISTS sessions_by_last ON sessions (last_ns DESC, id)`},
	{"types_by_type", `CREATE INDEX IF NOT EXISTS types_by_type ON types (type, session)`},
}

// BeginLoad prepares an empty catalog for a bulk load (a rebuild): it drops
// the secondary indexes, which EndLoad builds once from the loaded rows, and
// stops syncing commits until EndLoad. A load cut short leaves a catalog that
// is not marked complete, so it is rebuilt; nothing depends on its commits
// before then.
func (c *Catalog) BeginLoad(ctx context.Context) error {
	if c.ro {
		return fmt.Errorf("catalog: begin load: opened read-only")
	}
	for _, ix := range secondaryIndexes {
		if _, err := c.db.ExecContext(ctx, `DROP INDEX IF EXISTS `+ix.name); err != nil {
			return damaged("begin load", err)
		}
	}
	if _, err := c.db.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
		return damaged("begin load", err)
	}
	return nil
}

// EndLoad builds the indexes BeginLoad dropped and restores the catalog's
// sync setting; the next commit makes the whole load durable.
func (c *Catalog) EndLoad(ctx context.Context) error {
	for _, ix := range secondaryIndexes {
		if _, err := c.db.ExecContext(ctx, ix.def); err != nil {
			return damaged("end load", err)
		}
	}
	if _, err := c.db.ExecContext(ctx, `PRAGMA synchronous = `+c.sync); err != nil {
		return damaged("end load", err)
	}
	return nil
}
