package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventgate/eventgate"
)

// SendBatch inserts every event with one statement (an INSERT … SELECT
// over unnest of one array per column, in the batch's order, ON CONFLICT
// (event_id) DO NOTHING) in one round trip, and returns once it is
// committed. The statement is atomic: either every row is in, or none is.
//
// Events PostgreSQL can never store (see Send) are left out of the
// statement and reported in a *eventgate.BatchError with KindRejected. When
// the statement itself fails with a permanent error (a data exception the
// checks did not foresee), SendBatch inserts the events one at a time so
// that only the offending ones are reported. A retryable failure (broken
// connection, timeout) is returned as a plain error: nothing of the batch
// can be assumed stored, and re-sending it is harmless.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	if len(evs) == 0 {
		return nil
	}
	failed := map[int]error{}
	rows := make([]row, 0, len(evs))
	idx := make([]int, 0, len(evs))
	for i, ev := range evs {
		r, err := toRow(ev)
		if err != nil {
			failed[i] = eventgate.NewError(t.cfg.Name, eventgate.KindRejected, fmt.Errorf("postgres: event %s: %w", ev.ID, err))
			continue
		}
		rows = append(rows, r)
		idx = append(idx, i)
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	if len(rows) > 0 {
		err := t.withRetry(ctx, fmt.Sprintf("insert batch of %d", len(rows)), func(ctx context.Context, pool *pgxpool.Pool) error {
			return t.insertRows(ctx, pool, rows)
		})
		switch {
		case err == nil:
		case eventgate.Permanent(err):
			t.insertOneByOne(ctx, evs, rows, idx, failed)
		default:
			return err
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &eventgate.BatchError{Failed: failed}
}

// insertOneByOne inserts rows one at a time, recording each failure.
func (t *Transport) insertOneByOne(ctx context.Context, evs []*eventgate.Event, rows []row, idx []int, failed map[int]error) {
	for j, r := range rows {
		i := idx[j]
		err := t.withRetry(ctx, "insert event "+evs[i].ID, func(ctx context.Context, pool *pgxpool.Pool) error {
			_, err := pool.Exec(ctx, t.sql.insert, r.args()...)
			return err
		})
		if err != nil {
			failed[i] = err
		}
	}
}

// insertRows inserts rows with the unnest statement.
func (t *Transport) insertRows(ctx context.Context, pool *pgxpool.Pool, rows []row) error {
	ids := make([]string, len(rows))
	sessions := make([]string, len(rows))
	types := make([]*string, len(rows))
	times := make([]time.Time, len(rows))
	data := make([]*string, len(rows))
	dataText := make([]*string, len(rows))
	meta := make([]*string, len(rows))
	for i := range rows {
		r := &rows[i]
		ids[i], sessions[i], types[i], times[i], dataText[i] = r.eventID, r.sessionID, r.typ, r.ts, r.dataText
		if r.data != nil {
			s := string(r.data)
			data[i] = &s
		}
		if r.meta != nil {
			s := string(r.meta)
			meta[i] = &s
		}
	}
	_, err := pool.Exec(ctx, t.sql.insertBatch, ids, sessions, types, times, data, dataText, meta)
	return err
}
