package redisstream

import (
	"context"
	"crypto/tls"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The client library reports every failed dial on stderr; the outage
	// tests provoke many on purpose.
	logging.Disable()
	goleak.VerifyTestMain(m)
}

// redisAddr returns the test server's address, skipping (or failing, when
// services are required) if it is unreachable.
func redisAddr(tb testing.TB) string {
	tb.Helper()
	return testutil.Service(tb, "Redis", "EVENTGATE_REDIS_ADDR", "127.0.0.1:6379")
}

// admin returns a plain client for inspecting the server, closed at cleanup.
func admin(tb testing.TB, addr string) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ClientName: "eventgate-test-admin"})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// newAdminTLS returns a plain client for a TLS server, closed at cleanup.
func newAdminTLS(tb testing.TB, addr string, cfg *tls.Config) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, TLSConfig: cfg})
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// uniqueName returns a key prefix no other test uses.
func uniqueName(prefix string) string {
	id := eventgate.NewID()
	return prefix + ":" + strings.ReplaceAll(id, "-", "")
}

// dropKeys deletes the named keys, and every key matching each pattern, at
// cleanup.
func dropKeys(tb testing.TB, c *redis.Client, patterns ...string) {
	tb.Helper()
	tb.Cleanup(func() {
		ctx := context.Background()
		for _, p := range patterns {
			if !strings.ContainsAny(p, "*?[") {
				c.Del(ctx, p)
				continue
			}
			iter := c.Scan(ctx, 0, p, 1000).Iterator()
			for iter.Next(ctx) {
				c.Del(ctx, iter.Val())
			}
		}
	})
}

// readStreams returns the decoded entries of the stream key, or of every
// stream matching the pattern, in stream order (stream by stream).
func readStreams(ctx context.Context, c *redis.Client, keyOrPattern string) ([]*eventgate.Event, error) {
	keys := []string{keyOrPattern}
	if strings.ContainsAny(keyOrPattern, "*?[") {
		keys = keys[:0]
		iter := c.Scan(ctx, 0, keyOrPattern, 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return nil, err
		}
	}
	var out []*eventgate.Event
	for _, k := range keys {
		msgs, err := c.XRange(ctx, k, "-", "+").Result()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			ev, err := DecodeMessage(m)
			if err != nil {
				return nil, err
			}
			out = append(out, ev)
		}
	}
	return out, nil
}

// newTransport builds a transport for the test and closes it at cleanup.
func newTransport(tb testing.TB, cfg Config) *Transport {
	tb.Helper()
	tr, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = tr.Close() })
	return tr
}

// testEvent returns an event of session s with a recognisable body.
func testEvent(s string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: s,
		Type:      "test.step",
		Time:      testTime.Add(timeStep * time.Duration(i)),
		Data:      []byte(`{"i":` + strconv.Itoa(i) + `,"session":"` + s + `"}`),
		Meta:      eventgate.StringMeta(map[string]string{"i": strconv.Itoa(i)}),
	}
}

var testTime = time.Date(2025, 6, 10, 12, 0, 0, 123456789, time.UTC)

const timeStep = time.Millisecond + time.Nanosecond
