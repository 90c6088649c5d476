// Package server is the HTTP API of an eventgate Gateway: producers in any
// language post events to it, and operators read sessions back, follow them
// live and look after the routes.
//
// Endpoints (scopes in brackets; see Options.Tokens):
//
//	POST   /v1/events                       [ingest] one event, the original HTTPTransport payload,
//	                                                 a JSON array of either, or NDJSON of any length
//	GET    /v1/sessions                     [read]   sessions newest first: ?limit=&cursor= (or &offset=)
//	GET    /v1/sessions/{id}                [read]   one session's summary
//	GET    /v1/sessions/{id}/events         [read]   ?type=&since=&until=&after_seq=&limit= (RFC 3339 times)
//	GET    /v1/sessions/{id}/stream         [read]   Server-Sent Events: replay from after_seq (or
//	                                                 Last-Event-ID), then live; ?speed= paces the replay
//	DELETE /v1/sessions/{id}                [admin]
//	GET    /v1/routes                       [read]   delivery figures per route, and the detached routes
//	GET    /v1/routes/{route}/dead-letters  [admin]
//	POST   /v1/routes/{route}/redrive       [admin]
//	GET    /v1/damage                       [admin]  journal damage found (records lost), acknowledged or not
//	POST   /v1/damage/ack                   [admin]  acknowledge it all
//	GET    /healthz, /readyz                         liveness; readiness (503 while shutting down, and
//	                                                 while journal damage is not acknowledged, with the reason)
//	GET    /metrics                         [read]   Prometheus, from the server's own registry
//
// An ingest answer is 200 {"accepted":n,"ids":[…]} once every event is
// durable under the Gateway's sync policy; 207 when some items were refused
// (each named in "errors" by index, and line for NDJSON); 400 for invalid
// JSON (with the byte offset, or the line); 413 past the body or event size
// limits; 503 with Retry-After when a route's backlog is full.
//
// Ingest is idempotent: an item whose id (its "id", the seed payload's
// metadata.event_id, or else the request's Idempotency-Key header: the key
// for a one-object body, key + "/" + the item's 0-based index for an array or
// NDJSON body) is already recorded within the Gateway's dedup window is
// answered as a success without being recorded again, and listed in "items"
// as {"index":i,"id":…,"duplicate":true} ("duplicates" counts them; a
// one-object body also gets "duplicate":true). The full contract is in
// docs/API.md.
//
// Example:
//
//	gw, err := eventgate.Open("")
//	if err != nil {
//		return err
//	}
//	defer gw.Close(context.Background())
//	tok, _ := server.NewToken("producer", os.Getenv("EVENTGATE_TOKEN"), server.ScopeIngest, server.ScopeRead)
//	srv, err := server.New(gw, server.Options{Tokens: []server.Token{tok}})
//	if err != nil {
//		return err
//	}
//	hs := srv.HTTPServer("127.0.0.1:8080")
//	ln, err := net.Listen("tcp", hs.Addr)
//	if err != nil {
//		return err
//	}
//	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
//	defer stop()
//	return server.Serve(ctx, hs, ln, func() (context.Context, context.CancelFunc) {
//		return context.WithTimeout(context.Background(), 10*time.Second)
//	})
package server
