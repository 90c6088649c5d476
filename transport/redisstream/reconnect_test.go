package redisstream

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/redis/go-redis/v9"
)

// killClients closes, on the server, every connection named name, and
// returns how many it closed.
func killClients(ctx context.Context, c *redis.Client, name string) (int, error) {
	list, err := c.ClientList(ctx).Result()
	if err != nil {
		return 0, err
	}
	killed := 0
	for _, line := range strings.Split(list, "\n") {
		var id, cname string
		for _, f := range strings.Fields(line) {
			if v, ok := strings.CutPrefix(f, "id="); ok {
				id = v
			}
			if v, ok := strings.CutPrefix(f, "name="); ok {
				cname = v
			}
		}
		if cname != name || id == "" {
			continue
		}
		n, err := c.ClientKillByFilter(ctx, "ID", id).Result()
		if err != nil {
			return killed, err
		}
		killed += int(n)
	}
	return killed, nil
}

// sessionEvents returns perSession events for each of sessions sessions.
func sessionEvents(prefix string, sessions, perSession int) [][]*eventgate.Event {
	out := make([][]*eventgate.Event, sessions)
	for s := range out {
		sid := fmt.Sprintf("%s-%d", prefix, s)
		for i := 0; i < perSession; i++ {
			out[s] = append(out[s], testEvent(sid, i))
		}
	}
	return out
}

// checkArrived asserts that every event arrived at least once and that the
// first arrivals of each session are in the order the events were sent.
func checkArrived(t *testing.T, got []*eventgate.Event, want [][]*eventgate.Event) {
	t.Helper()
	seen := make(map[string]bool, len(got))
	bySession := make(map[string][]string)
	dups := 0
	for _, ev := range got {
		if seen[ev.ID] {
			dups++
			continue
		}
		seen[ev.ID] = true
		bySession[ev.SessionID] = append(bySession[ev.SessionID], ev.ID)
	}
	total := 0
	for _, evs := range want {
		total += len(evs)
		sid := evs[0].SessionID
		ids := bySession[sid]
		if len(ids) != len(evs) {
			missing := 0
			for _, ev := range evs {
				if !seen[ev.ID] {
					missing++
				}
			}
			t.Errorf("session %s: %d of %d events missing", sid, missing, len(evs))
			continue
		}
		for i, ev := range evs {
			if ids[i] != ev.ID {
				t.Errorf("session %s: event %d arrived out of order", sid, i)
				break
			}
		}
	}
	t.Logf("%d events sent, %d entries downstream (%d duplicates)", total, len(got), dups)
}

// TestReconnect kills the transport's connections on the server while
// events flow, and checks that every event still arrives in per-session
// order. Senders re-send after a retryable error, as a Gateway route does.
func TestReconnect(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	for _, tt := range []struct {
		name       string
		maxRetries int
		batch      int
	}{
		{"Send", 0, 0},
		{"Send without client retries", -1, 0},
		{"SendBatch", 0, 25},
		{"SendBatch without client retries", -1, 25},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			stream := uniqueName("egtest")
			dropKeys(t, c, stream)
			clientName := "egtest-" + strconv.FormatInt(time.Now().UnixNano(), 36)
			tr := newTransport(t, Config{Addr: addr, Stream: stream, MaxLen: NoTrim,
				ClientName: clientName, MaxRetries: tt.maxRetries, Timeout: 5 * time.Second})
			const sessions, perSession = 4, 750
			want := sessionEvents(uniqueName("s"), sessions, perSession)

			var sent, retried atomic.Int64
			progress := make(chan int64, 64)
			errs := make(chan error, sessions)
			var wg sync.WaitGroup
			for _, evs := range want {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- sendAll(ctx, tr, evs, tt.batch, &sent, &retried, progress)
				}()
			}
			done := make(chan struct{})
			go func() { wg.Wait(); close(done) }()

			total := int64(sessions * perSession)
			killed, rounds := 0, 0
			next := total / 5
		loop:
			for {
				select {
				case n := <-progress:
					if n < next || rounds == 3 {
						continue
					}
					k, err := killClients(ctx, c, clientName)
					if err != nil {
						t.Fatalf("CLIENT KILL: %v", err)
					}
					killed += k
					rounds++
					next = n + total/5
				case <-done:
					break loop
				}
			}
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if killed == 0 {
				t.Fatal("no connection was killed while events flowed; the test proved nothing")
			}
			t.Logf("%d kill rounds closed %d connections; %d sends were repeated after an error", rounds, killed, retried.Load())
			got, err := readStreams(ctx, c, stream)
			if err != nil {
				t.Fatal(err)
			}
			checkArrived(t, got, want)
		})
	}
}

// sendAll delivers evs in order (one at a time, or in batches of batch),
// re-sending after retryable errors, and reports progress.
func sendAll(ctx context.Context, tr *Transport, evs []*eventgate.Event, batch int, sent, retried *atomic.Int64, progress chan<- int64) error {
	step := max(batch, 1)
	for i := 0; i < len(evs); i += step {
		chunk := evs[i:min(i+step, len(evs))]
		for attempt := 0; ; attempt++ {
			var err error
			if batch > 0 {
				err = tr.SendBatch(ctx, chunk)
			} else {
				err = tr.Send(ctx, chunk[0])
			}
			if err == nil {
				break
			}
			if !eventgate.Retryable(err) || attempt == 20 {
				return fmt.Errorf("event %s: %w", chunk[0].ID, err)
			}
			retried.Add(1)
		}
		n := sent.Add(int64(len(chunk)))
		select {
		case progress <- n:
		default:
		}
	}
	return nil
}
