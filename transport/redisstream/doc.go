// Package redisstream delivers eventgate events to Redis Streams with XADD.
//
// Each event becomes one stream entry whose fields are those of the original
// RedisStreamTransport, plus two that let a consumer rebuild the event
// exactly:
//
//	event_type  Event.Type
//	session_id  Event.SessionID
//	event_data  Event.Data, byte for byte (JSON)
//	metadata    Event.Meta, its JSON object byte for byte, values typed ({} when empty)
//	timestamp   Event.Time as Unix seconds with six decimals, e.g. 1718040000.123456
//	id          Event.ID, the stable id consumers de-duplicate on
//	time        Event.Time, RFC 3339 with nanoseconds, UTC
//
// # The original layout
//
// A consumer written for the original transport's entries (it reads
// event_type, session_id, event_data, metadata and timestamp, and json.loads
// the two JSON fields) works unchanged on these entries: the five fields are
// there with the same names and encodings, metadata is a JSON object whose
// values keep their types (a number stays a number, a list a list), and the
// two extra fields are ignored by such a consumer. What differs, and why:
//
//   - event_type is Event.Type (the producer's own type, e.g. "message",
//     derived from data's "type" when not given), where the original wrote
//     the Python class name of the event object (type(event).__name__): a
//     gateway receives JSON, not Python objects, so there is no class name.
//   - timestamp is the event's time (six decimals, truncated to the
//     microsecond), where the original wrote the time of the send
//     (str(time.time()), up to seven decimals): events replayed from the
//     journal keep the time they happened. Both parse as a float.
//   - event_data and metadata hold the producer's JSON bytes as given;
//     the original re-serialized them with json.dumps (", " and ": "
//     separators). A consumer that parses them, as the original's did, sees
//     equal values; one that compares raw text may not.
//   - session_id is the event's session, never empty (the gateway falls back
//     to its fallback session, "unknown" by default, as the original did).
//
// DecodeMessage turns an entry back into the event. Entries go to one stream
// (default "agent_events") or, when Config.Stream contains "{session}", to one
// stream per session. Every XADD trims the stream with MAXLEN ~ 10000 by
// default, as the original did; Config.MaxLen and Config.ExactTrim change
// that, and NoTrim disables it.
//
// SendBatch writes a whole batch in one pipelined round trip. The client keeps
// a pool of connections; a connection the server dropped is replaced on the
// next command, and a command that was in flight on it is re-tried up to
// Config.MaxRetries times, so an entry may be appended twice
// (at-least-once; de-duplicate on "id").
//
// # Errors
//
// Every error is a *eventgate.TransportError. Timeouts are KindTimeout;
// refused, reset or dropped connections and failed TLS handshakes (an
// untrusted certificate) are KindConnection; both are retryable. Error
// replies of the server map by their first word:
//
//	OOM, BUSY, "ERR max number of clients reached"    KindThrottled (retryable)
//	LOADING, MASTERDOWN, READONLY, TRYAGAIN,
//	CLUSTERDOWN, MISCONF, NOREPLICAS                  KindConnection (retryable)
//	NOAUTH, WRONGPASS, NOPERM, WRONGTYPE, and any
//	other reply (argument errors)                     KindRejected (permanent)
//
// An event whose Data is not valid JSON fails with KindSerialization, and any
// call after Close with an error matching eventgate.ErrClosed.
//
// Config.Logger receives this package's debug records. The Redis client
// library itself reports failed dials through its own process-wide logger
// (standard error by default); a program changes that with redis.SetLogger,
// or silences it with logging.Disable from
// github.com/redis/go-redis/v9/logging.
//
// # Example
//
//	package main
//
//	import (
//		"context"
//		"encoding/json"
//		"log"
//		"time"
//
//		"github.com/eventgate/eventgate"
//		"github.com/eventgate/eventgate/transport/redisstream"
//	)
//
//	func main() {
//		ctx := context.Background()
//		// Or build a Config by hand and call redisstream.New.
//		t, err := redisstream.Open(ctx, "redis://127.0.0.1:6379/0?stream=agent_events&maxlen=10000&approx=true&timeout=5s")
//		if err != nil {
//			log.Fatal(err)
//		}
//		defer t.Close()
//
//		ev := &eventgate.Event{
//			ID:        eventgate.NewID(),
//			SessionID: "s-42",
//			Type:      "message",
//			Time:      time.Now(),
//			Data:      json.RawMessage(`{"type":"message","text":"hello"}`),
//			Meta:      json.RawMessage(`{"agent":"support","temperature":0.2}`),
//		}
//		if err := t.Send(ctx, ev); err != nil {
//			if eventgate.Retryable(err) {
//				log.Printf("try again later: %v", err)
//				return
//			}
//			log.Fatalf("redis refused the event: %v", err)
//		}
//	}
//
// In a program that uses the Gateway, pass the transport to it instead of
// calling Send: eventgate.Open(dir, eventgate.WithTransport("redis", t)). The
// Gateway then retries, batches (through SendBatch) and keeps per-session
// order.
//
// # URL form
//
//	redis://[user:password@]host[:port][/db]?stream=agent_events&maxlen=10000&approx=true&timeout=5s
//
// rediss:// is the same over TLS. See ParseURL for every parameter.
package redisstream
