package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventgate/eventgate"
)

// Send inserts ev and returns once the row is committed. A row with the
// same event id already in the table makes the insert a no-op
// (ON CONFLICT (event_id) DO NOTHING), so re-sends are harmless; Send then
// returns nil as well.
//
// The insert is idempotent, so when it fails on a broken connection (a
// terminated backend, a restarted server) Send retries it on another
// pooled connection, up to MaxConns+1 attempts within the deadline,
// before it returns the KindConnection error.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	r, err := toRow(ev)
	if err != nil {
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected, fmt.Errorf("postgres: event %s: %w", ev.ID, err))
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	return t.withRetry(ctx, "insert event "+ev.ID, func(ctx context.Context, pool *pgxpool.Pool) error {
		_, err := pool.Exec(ctx, t.sql.insert, r.args()...)
		return err
	})
}

// withRetry runs op against a ready pool. It retries op while it fails on
// a broken connection (op must be idempotent), and once after re-creating
// the table when op finds it gone and CreateTable is set.
func (t *Transport) withRetry(ctx context.Context, what string, op func(context.Context, *pgxpool.Pool) error) error {
	recreated := false
	retries := 0
	var err error
	for {
		var pool *pgxpool.Pool
		if pool, err = t.ready(ctx); err != nil {
			return err
		}
		if err = op(ctx, pool); err == nil {
			return nil
		}
		if isUndefinedTable(err) && t.cfg.CreateTable && !recreated {
			recreated = true
			t.tableGone()
			continue
		}
		if classify(err) == eventgate.KindConnection && ctx.Err() == nil && retries < t.cfg.MaxConns {
			retries++
			t.cfg.Logger.Debug("postgres: retrying on another connection", "transport", t.cfg.Name, "err", err)
			continue
		}
		break
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
	}
	return wrapErr(t.cfg.Name, what, err)
}

// tableGone makes the next ready call create the table again.
func (t *Transport) tableGone() {
	t.mu.Lock()
	t.tableReady = false
	t.mu.Unlock()
}

// sqlState returns err's SQLSTATE, or "".
func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}
