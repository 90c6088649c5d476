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
	"github.com/eventgate/eventgate/internal/testutil"
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
					errs <- testutil.SendAll(ctx, tr, evs, tt.batch, &sent, &retried, progress)
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
			testutil.CheckArrived(t, got, want)
		})
	}
}
