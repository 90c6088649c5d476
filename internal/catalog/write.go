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

// rowsPerStatement bounds the rows of one multi-row INSERT (SQLite allows
// 32766 parameters).
const rowsPerStatement = 256

// Apply records deltas in one transaction: all of them or, on error, none.
func (c *Catalog) Apply(ctx context.Context, deltas []*Delta) error {
	if len(deltas) == 0 {
		return nil
	}
	return c.tx(ctx, "apply", func(tx *sql.Tx) error {
		var newSessions, bytes, events int64
		var types, files [][]any
		var blocks [][]any
		sessRows := make([][]any, 0, min(len(deltas), rowsPerStatement))
		flushSessions := func() error {
			err := insertRows(ctx, tx, `INSERT INTO sessions (id, first_ns, last_ns, count, bytes, first_seq, last_seq) VALUES `, 7, sessRows,
				` ON CONFLICT (id) DO UPDATE SET first_ns = min(first_ns, excluded.first_ns), last_ns = max(last_ns, excluded.last_ns),
				  count = count + excluded.count, bytes = bytes + excluded.bytes,
				  first_seq = min(first_seq, excluded.first_seq), last_seq = max(last_seq, excluded.last_seq)`)
			sessRows = sessRows[:0]
			return err
		}
		for _, d := range deltas {
			if d.New {
				newSessions++
			}
			bytes += d.Bytes
			events += d.Count
			if d.Count > 0 {
				sessRows = append(sessRows, []any{d.ID, d.MinNs, d.MaxNs, d.Count, d.Bytes, int64(d.FirstSeq), int64(d.LastSeq)})
			}
			if len(sessRows) == rowsPerStatement {
				if err := flushSessions(); err != nil {
					return err
				}
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
		if err := flushSessions(); err != nil {
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
	})
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
	return c.tx(ctx, "delete", func(tx *sql.Tx) error {
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
	})
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

func insertChunks(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string) error {
	for len(rows) > 0 {
		n := min(len(rows), rowsPerStatement)
		if err := insertRows(ctx, tx, head, cols, rows[:n], tail); err != nil {
			return err
		}
		rows = rows[n:]
	}
	return nil
}

// insertRows runs one multi-row INSERT of rows (each of cols values).
func insertRows(ctx context.Context, tx *sql.Tx, head string, cols int, rows [][]any, tail string) error {
	if len(rows) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString(head)
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ")"
	args := make([]any, 0, len(rows)*cols)
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(one)
		args = append(args, r...)
	}
	b.WriteString(tail)
	_, err := tx.ExecContext(ctx, b.String(), args...)
	return err
}
