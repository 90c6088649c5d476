// Package httpx delivers eventgate events to an HTTP endpoint with POST, using
// only net/http.
//
// # Payload
//
// Send POSTs one event as application/json. By default (FormatSeed) the body
// is the payload the original HTTPTransport posted, so existing endpoints
// keep working:
//
//	{"event":{…Data byte for byte…},
//	 "metadata":{"event_id":"…","session_id":"…","type":"…", …Meta…},
//	 "timestamp":1718040000.123456}
//
// timestamp is the event's Time as Unix seconds with microseconds. With
// FormatEvent the body is the event's own JSON form (eventgate.AppendJSON):
// {"id","session_id","type","time","data","meta"}.
//
// SendBatch POSTs a whole batch as application/x-ndjson: one event per line,
// in the configured format, each line ending in "\n". Line breaks inside Data
// (JSON whitespace) are sent as spaces so every event stays on its line.
// Receivers read either body with Decode.
//
// Every request carries Idempotency-Key: the event id for Send; for a batch
// "<first id>..<last id>" (the id alone for a batch of one). Batches a route
// sends are contiguous runs of its journal, so equal keys mean equal
// contents. Config.Headers adds headers of your own (Authorization, …).
//
// # Signing
//
// With Config.HMACSecret set, every request carries X-Eventgate-Timestamp (Unix
// seconds) and X-Eventgate-Signature: sha256=<hex of HMAC-SHA256(secret,
// timestamp + "." + body)>. A receiver checks both with Verify:
//
//	body, _ := io.ReadAll(r.Body)
//	if err := httpx.Verify(secret, r.Header, body, 5*time.Minute); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//	events, err := httpx.Decode(r.Header.Get("Content-Type"), body)
//
// # Answers and errors
//
// Any 2xx accepts the request. Every error is a *eventgate.TransportError
// whose cause is a *StatusError when the endpoint answered:
//
//	408 Request Timeout, 504 Gateway Timeout    KindTimeout    retryable
//	425, 429, 503                               KindThrottled  retryable, RetryAfter from Retry-After
//	502 Bad Gateway                             KindConnection retryable
//	other 5xx                                   KindUnknown    retryable
//	other 4xx, 3xx (redirects are not followed) KindRejected   permanent, quotes the body's start
//
// Retry-After is read in both forms, delay seconds and HTTP date, into
// TransportError.RetryAfter (for any retryable status). A request that got no
// answer is KindTimeout when Config.Timeout passed and KindConnection
// otherwise (refused, reset, closed mid-answer, TLS failures). Connections are
// pooled and kept alive (Config.MaxConnsPerHost); one the server closed is
// replaced by the next request. An event whose Data is not valid JSON fails
// with KindSerialization, and any call after Close with an error matching
// eventgate.ErrClosed.
//
// # Example
//
//	package main
//
//	import (
//		"context"
//		"encoding/json"
//		"log"
//		"net/http"
//		"time"
//
//		"github.com/eventgate/eventgate"
//		"github.com/eventgate/eventgate/transport/httpx"
//	)
//
//	func main() {
//		ctx := context.Background()
//		t, err := httpx.New(httpx.Config{
//			URL:     "https://collector.example/v1/events",
//			Headers: http.Header{"Authorization": {"Bearer token123"}},
//			Timeout: 5 * time.Second,
//		})
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
//		}
//		if err := t.Send(ctx, ev); err != nil {
//			if d, ok := eventgate.RetryAfterHint(err); ok {
//				log.Printf("throttled, retry in %v", d)
//			}
//			log.Fatal(err)
//		}
//	}
//
// In a program that uses the Gateway, give it the transport instead of
// calling Send: eventgate.Open(dir, eventgate.WithTransport("http", t)).
//
// # URL form
//
//	https://host/path?timeout=5s&max_conns=16&format=seed&hmac_secret_env=EVENTS_HMAC
//
// See ParseURL; Open parses such a URL, creates the transport and connects.
package httpx
