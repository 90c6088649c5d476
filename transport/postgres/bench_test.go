package postgres

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventgate/eventgate/internal/testutil"
)

// benchTransport returns a connected transport on a fresh table.
func benchTransport(b *testing.B) (*Transport, *observer) {
	url := serverURL(b)
	o := newObserver(b, url)
	tr, err := New(testConfig(b, url, o))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	if err := tr.Connect(context.Background()); err != nil {
		b.Fatal(err)
	}
	return tr, o
}

// BenchmarkSend: one Send at a time (each a committed INSERT), and Sends
// from 16 goroutines per core at once.
func BenchmarkSend(b *testing.B) {
	b.Run("sequential", func(b *testing.B) {
		tr, _ := benchTransport(b)
		testutil.BenchSendAll(b, tr, testutil.BenchEvents(b.N), 0)
	})
	b.Run("parallel", func(b *testing.B) {
		tr, _ := benchTransport(b)
		testutil.BenchSendAll(b, tr, testutil.BenchEvents(b.N), 16)
	})
}

// BenchmarkSendBatch: SendBatch of 100 and 1000 events; b.N counts events.
func BenchmarkSendBatch(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			tr, _ := benchTransport(b)
			evs := testutil.BenchEvents(b.N)
			testutil.BenchSendAllBatches(b, tr, evs, size)
		})
	}
}

// BenchmarkBatchMethods compares the ways of inserting a batch with
// ON CONFLICT DO NOTHING: the transport's unnest statement, a pgx.Batch of
// single-row INSERTs, and COPY into a temporary table followed by
// INSERT … SELECT. b.N counts events.
func BenchmarkBatchMethods(b *testing.B) {
	methods := []struct {
		name   string
		insert func(ctx context.Context, tr *Transport, pool *pgxpool.Pool, rows []row) error
	}{
		{"unnest", func(ctx context.Context, tr *Transport, pool *pgxpool.Pool, rows []row) error {
			return tr.insertRows(ctx, pool, rows)
		}},
		{"pgxBatch", insertPgxBatch},
		{"copyTemp", insertCopyTemp},
	}
	for _, size := range []int{10, 100, 1000} {
		for _, m := range methods {
			b.Run(fmt.Sprintf("%s/%d", m.name, size), func(b *testing.B) {
				tr, _ := benchTransport(b)
				ctx := context.Background()
				pool, err := tr.ready(ctx)
				if err != nil {
					b.Fatal(err)
				}
				evs := testutil.BenchEvents(b.N)
				rows := make([]row, len(evs))
				for i, ev := range evs {
					if rows[i], err = toRow(ev); err != nil {
						b.Fatal(err)
					}
				}
				b.ResetTimer()
				for i := 0; i < b.N; i += size {
					if err := m.insert(ctx, tr, pool, rows[i:min(i+size, b.N)]); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				testutil.ReportRate(b, b.N)
				if n, err := (&observer{pool}).count(ctx, tr.cfg.Table); err != nil || n != b.N {
					b.Fatalf("table holds %d rows, want %d (%v)", n, b.N, err)
				}
			})
		}
	}
}

// insertPgxBatch inserts rows as a pgx.Batch of the single-row statement:
// one round trip, one statement per row, all in one implicit transaction.
func insertPgxBatch(ctx context.Context, tr *Transport, pool *pgxpool.Pool, rows []row) error {
	var batch pgx.Batch
	for i := range rows {
		batch.Queue(tr.sql.insert, rows[i].args()...)
	}
	return pool.SendBatch(ctx, &batch).Close()
}

// insertCopyTemp copies rows into a temporary staging table and moves them
// into the table with INSERT … SELECT … ON CONFLICT DO NOTHING, in one
// transaction.
func insertCopyTemp(ctx context.Context, tr *Transport, pool *pgxpool.Pool, rows []row) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS eventgate_stage (
		ord int, event_id text, session_id text, type text, ts timestamptz, data jsonb, data_text text, meta jsonb
	) ON COMMIT DELETE ROWS`); err != nil {
		return err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"eventgate_stage"},
		[]string{"ord", "event_id", "session_id", "type", "ts", "data", "data_text", "meta"},
		pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return append([]any{i}, rows[i].args()...), nil
		})); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO `+tr.sql.table+` (event_id, session_id, type, ts, data, data_text, meta)
		SELECT event_id, session_id, type, ts, data, data_text, meta FROM eventgate_stage ORDER BY ord
		ON CONFLICT (event_id) DO NOTHING`); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// BenchmarkServerLimit measures what the server itself sustains for the
// same rows: COPY of 10,000 rows per operation straight into a table of the
// same layout (indexes included; no conflict handling). b.N counts COPYs.
func BenchmarkServerLimit(b *testing.B) {
	const perCopy = 10_000
	tr, _ := benchTransport(b)
	ctx := context.Background()
	pool, err := tr.ready(ctx)
	if err != nil {
		b.Fatal(err)
	}
	ident, _ := parseTable(tr.cfg.Table)
	batches := make([][]row, b.N)
	for n := range batches {
		evs := testutil.BenchEvents(perCopy)
		batches[n] = make([]row, perCopy)
		for i, ev := range evs {
			if batches[n][i], err = toRow(ev); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		rows := batches[n]
		copied, err := pool.CopyFrom(ctx, ident, columns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return rows[i].args(), nil
		}))
		if err != nil || copied != perCopy {
			b.Fatalf("copied %d rows: %v", copied, err)
		}
	}
	testutil.ReportRate(b, b.N*perCopy)
}
