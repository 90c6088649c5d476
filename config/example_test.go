package config

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// TestExampleRedisPostgres runs examples/redis-postgres.yaml against the real
// servers: every event logged reaches both.
func TestExampleRedisPostgres(t *testing.T) {
	testutil.Service(t, "Redis", "EVENTGATE_REDIS_ADDR", "127.0.0.1:6379")
	testutil.Service(t, "PostgreSQL", "EVENTGATE_POSTGRES_ADDR", "127.0.0.1:5432")
	t.Setenv("EVENTGATE_INGEST_TOKEN", "ingest-secret-0123456789")
	t.Setenv("EVENTGATE_OPS_TOKEN", "ops-secret-0123456789abc")
	c, err := LoadEnv(filepath.Join("..", "examples", "redis-postgres.yaml"), env(map[string]string{"EVENTGATE_DIR": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.Check(ctx, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	gw, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	session := fmt.Sprintf("example-%d", time.Now().UnixNano())
	const n = 50
	evs := make([]*eventgate.Event, n)
	for i := range evs {
		evs[i] = &eventgate.Event{SessionID: session, Type: "step", Data: fmt.Appendf(nil, `{"i":%d}`, i)}
	}
	if err := gw.LogBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	if err := gw.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	st := gw.Stats()
	if err := gw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st.Routes["redis"].Delivered != n || st.Routes["postgres"].Delivered != n || st.Routes["redis"].BreakerState != "closed" {
		t.Fatalf("routes: %+v", st.Routes)
	}

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	stream := "events:" + session
	defer rdb.Del(context.Background(), stream)
	if got, err := rdb.XLen(ctx, stream).Result(); err != nil || got != n {
		t.Errorf("redis stream %s holds %d entries (%v), want %d", stream, got, err, n)
	}
	pg, err := pgx.Connect(ctx, "postgres://postgres@127.0.0.1:5432/test")
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close(context.Background())
	defer pg.Exec(context.Background(), "DELETE FROM eventgate_events WHERE session_id = $1", session)
	var got int
	if err := pg.QueryRow(ctx, "SELECT count(*) FROM eventgate_events WHERE session_id = $1", session).Scan(&got); err != nil || got != n {
		t.Errorf("postgres holds %d rows (%v), want %d", got, err, n)
	}
}
