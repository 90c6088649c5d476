// Package nats is the eventgate transport for NATS JetStream.
//
// Each event is published to a subject built from a template over the
// event's session id and type (default "events.{session}") and is stored by
// the JetStream stream that captures that subject. Send returns only after
// the stream acknowledged the message.
//
// # Usage
//
//	t, err := nats.Open(ctx, "nats://127.0.0.1:4222?subject=events.{session}&stream=EVENTS&create_stream=true&storage=file&timeout=5s")
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	gw, err := eventgate.Open(dir, eventgate.WithTransport("nats", t))
//
// or, without a URL:
//
//	t, err := nats.New(nats.Config{
//		URL:          "nats://127.0.0.1:4222",
//		Subject:      "agents.{session}.{type}",
//		Stream:       "AGENTS",
//		CreateStream: true,
//		MaxAge:       7 * 24 * time.Hour,
//	})
//	err = t.Send(ctx, &eventgate.Event{ID: eventgate.NewID(), SessionID: "s-1", Time: time.Now(), Data: []byte(`{"type":"hello"}`)})
//
// # Messages
//
// The body is the event's JSON form (eventgate.AppendJSON: id, session_id,
// type, time, data with Data byte for byte, meta). Headers:
//
//   - Nats-Msg-Id: the event id. The stream stores a message whose id it saw
//     within its duplicate window (Config.DuplicateWindow, default 2m) only
//     once, so the re-sends that at-least-once delivery allows do not
//     duplicate events.
//   - Meta-<key>: one per top-level Meta member (prefix
//     Config.HeaderPrefix), flattened by eventgate.FlattenMeta (string values
//     as they are, other values as their compact JSON text), for consumers
//     that filter on headers. Entries whose key is not a valid
//     header name or whose value would be altered by the header encoding
//     (CR, LF, surrounding whitespace) are left out; the body carries Meta
//     exactly.
//
// # Subjects and session ids
//
// Session ids and types may hold characters that a subject token cannot
// ('.', '*', '>', whitespace). EncodeToken writes each of those bytes, the
// escape character '%', other ASCII control characters and invalid UTF-8
// as '%' plus two upper-case hex digits, keeps everything else, and writes
// the empty string as "%". So "user.42" goes to "events.user%2E42" and
// "a b" to "events.a%20b"; DecodeToken gives the id back, and two distinct
// ids never share a subject. The stream's subjects default to the template
// with each placeholder token replaced by '*' ("events.*").
//
// # Streams
//
// With create_stream=true, Connect (or the first Send) creates the stream
// with the configured subjects, storage, max age and duplicate window, or
// updates an existing stream to add the subjects and set max age and
// duplicate window; and a publish that finds the stream gone re-creates it
// and publishes again. Without it, a named stream that does not exist is a
// permanent error (KindRejected).
//
// # Connection loss
//
// The client reconnects by itself, forever by default (Config.MaxReconnects
// -1), pausing Config.ReconnectWait (default 1s, with jitter) between
// attempts. Its reconnect buffer is off by default (Config.ReconnectBufSize
// -1), so while it is disconnected Send and SendBatch fail at once with
// KindConnection, a retryable error: the Gateway's journal keeps the event
// and its route retries, in order. A Send whose message was written just
// before the connection broke stops waiting for the acknowledgement that
// can no longer come and fails with KindConnection too; the message may or
// may not have been stored, and the retry is dropped by Nats-Msg-Id if it
// was. SendBatch stops publishing at the first sign of a break, so that
// what the stream stored is a prefix of the batch (see SendBatch). A
// positive ReconnectBufSize makes Sends wait out short outages instead, at
// the cost described on Config.ReconnectBufSize. If the client ever gives
// up reconnecting (a finite MaxReconnects), the next Send dials afresh.
//
// # Errors
//
// No responders, disconnections, closed connections and full buffers are
// KindConnection; timeouts are KindTimeout (both retryable). Maximum
// payload exceeded, invalid subjects, permission violations, a missing
// stream when create_stream is off, and other JetStream API errors with a
// 4xx code are KindRejected. After Close, every call fails with an error
// matching eventgate.ErrClosed.
package nats
