package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serverAddr returns the test server's host:port, or skips the test.
func serverAddr(tb testing.TB) string {
	tb.Helper()
	return testutil.Service(tb, "PostgreSQL", "EVENTGATE_POSTGRES_ADDR", "127.0.0.1:5432")
}

// serverURL returns the URL of the test database, or skips the test.
func serverURL(tb testing.TB) string {
	tb.Helper()
	return "postgres://postgres@" + serverAddr(tb) + "/test?sslmode=disable"
}

// uniq returns a name unique to one test.
func uniq(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// observer is the test's own pool, used to read tables and clean up.
type observer struct{ pool *pgxpool.Pool }

func newObserver(tb testing.TB, url string) *observer {
	tb.Helper()
	pc, err := pgxpool.ParseConfig(url)
	if err != nil {
		tb.Fatal(err)
	}
	pc.ConnConfig.RuntimeParams["application_name"] = "eventgate-test-observer"
	pool, err := pgxpool.NewWithConfig(context.Background(), pc)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close)
	return &observer{pool: pool}
}

// dropAtCleanup drops table when the test ends.
func (o *observer) dropAtCleanup(tb testing.TB, table string) {
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := o.pool.Exec(ctx, "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			tb.Errorf("drop table %s: %v", table, err)
		}
	})
}

// events returns the rows of table in seq order. A missing table reads as
// empty.
func (o *observer) events(ctx context.Context, table string) ([]*eventgate.Event, error) {
	var exists bool
	if err := o.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, pgx.Identifier{table}.Sanitize()).Scan(&exists); err != nil {
		return nil, err
	}
	if !exists {
		return nil, nil
	}
	rows, err := o.pool.Query(ctx, `SELECT event_id, session_id, COALESCE(type, ''), ts, COALESCE(data::text, data_text), meta::text FROM `+
		pgx.Identifier{table}.Sanitize()+` ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*eventgate.Event
	for rows.Next() {
		var (
			ev   eventgate.Event
			data string
			meta *string
		)
		if err := rows.Scan(&ev.ID, &ev.SessionID, &ev.Type, &ev.Time, &data, &meta); err != nil {
			return nil, err
		}
		ev.Data = json.RawMessage(data)
		if meta != nil {
			if err := json.Unmarshal([]byte(*meta), &ev.Meta); err != nil {
				return nil, fmt.Errorf("event %s: meta: %w", ev.ID, err)
			}
		}
		out = append(out, &ev)
	}
	return out, rows.Err()
}

// count returns the number of rows of table.
func (o *observer) count(ctx context.Context, table string) (int, error) {
	var n int
	err := o.pool.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{table}.Sanitize()).Scan(&n)
	return n, err
}

// testConfig returns a Config for a fresh table of the test's own, dropped
// when the test ends.
func testConfig(tb testing.TB, url string, o *observer) Config {
	table := uniq("egt_")
	o.dropAtCleanup(tb, table)
	return Config{URL: url, Table: table, CreateTable: true, ApplicationName: uniq("egt-app-")}
}

func newEvent(session string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: session,
		Type:      "test.step",
		Time:      time.Now(),
		Data:      []byte(fmt.Sprintf(`{"i":%d,"session":%q}`, i, session)),
		Meta:      eventgate.StringMeta(map[string]string{"n": fmt.Sprint(i)}),
	}
}
