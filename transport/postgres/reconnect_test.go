package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// countingHandler counts the log records whose message contains substr.
type countingHandler struct {
	substr string
	n      *atomic.Int64
}

func (h countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h countingHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, h.substr) {
		h.n.Add(1)
	}
	return nil
}
func (h countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h countingHandler) WithGroup(string) slog.Handler      { return h }

// terminate ends every backend of the transport's application name and
// returns how many there were.
func (o *observer) terminate(ctx context.Context, app string) (int, error) {
	var n int
	err := o.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`, app).Scan(&n)
	return n, err
}

// TestReconnect terminates the transport's backends several times while
// events flow, and checks that every event is stored exactly once (a
// re-send is absorbed by ON CONFLICT) and in per-session order.
func TestReconnect(t *testing.T) {
	url := serverURL(t)
	for _, mode := range []string{"Send", "SendBatch"} {
		t.Run(mode, func(t *testing.T) {
			o := newObserver(t, url)
			cfg := testConfig(t, url, o)
			cfg.MaxConns = 4
			var internalRetries atomic.Int64
			cfg.Logger = slog.New(countingHandler{"retrying on another connection", &internalRetries})
			tr, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := tr.Connect(ctx); err != nil {
				t.Fatal(err)
			}

			const n, sessions, batch, cuts = 2000, 4, 50, 5
			want := make([]*eventgate.Event, n)
			for i := range want {
				want[i] = newEvent(fmt.Sprintf("s%d", i%sessions), i)
			}
			parts := 0
			if mode == "SendBatch" {
				parts = batch
			}
			var sendErr error
			progress, done := testutil.SendParts(ctx, tr, want, parts, func(err error) bool {
				var be *eventgate.BatchError
				return eventgate.Retryable(err) && !errors.As(err, &be)
			})
			next, cut, terminated := n/(cuts+1), 0, 0
			var retries int
		wait:
			for {
				select {
				case sent := <-progress:
					if cut < cuts && sent >= next {
						k, err := o.terminate(ctx, cfg.ApplicationName)
						if err != nil {
							t.Error(err)
						}
						terminated += k
						cut++
						next += n / (cuts + 1)
					}
				case res := <-done:
					retries, sendErr = res.Retries, res.Err
					break wait
				}
			}
			if sendErr != nil {
				t.Fatal(sendErr)
			}
			// A cut can find the pool momentarily empty (its connection was
			// terminated by the previous cut and not yet replaced), so not
			// every cut need terminate a backend; at least one must.
			if cut != cuts || terminated == 0 {
				t.Fatalf("%d cuts terminated %d backends: the outage did not happen as planned", cut, terminated)
			}
			t.Logf("%d cuts terminated %d backends; %d inserts retried inside the transport; %d sends failed and were retried",
				cut, terminated, internalRetries.Load(), retries)
			if internalRetries.Load()+int64(retries) == 0 {
				t.Fatal("no insert failed: the terminations did not hit the transport's connections")
			}
			got, err := o.events(ctx, cfg.Table)
			if err != nil {
				t.Fatal(err)
			}
			testutil.CheckExactlyOnce(t, got, want)
		})
	}
}
