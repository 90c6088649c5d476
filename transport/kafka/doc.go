// Package kafka is an eventgate transport that produces events to Apache
// Kafka with franz-go's idempotent producer.
//
// Each event becomes one record: the key is the session id (so a session's
// events share a partition and keep their order), the value is the event's
// JSON form (eventgate.AppendJSON, Data byte for byte), and the headers are
// event_id, event_type and the event's Meta flattened by
// eventgate.FlattenMeta (string values as they are, other values as their
// compact JSON text, in the order given; the value keeps Meta typed).
// Producing uses acks=all with
// idempotent writes, so the client's own retries never duplicate or reorder
// records; consumers de-duplicate the at-least-once re-deliveries of the
// gateway by the event_id header.
//
// Errors are *eventgate.TransportError: broker and network trouble is
// retryable (KindConnection, KindTimeout, KindThrottled); records the broker
// refuses for good (too large, invalid topic, not authorized) are
// KindRejected; invalid Data is KindSerialization; use after Close is
// KindClosed.
//
// Usage:
//
//	t, err := kafka.Open(ctx, "kafka://127.0.0.1:9092/agent-events?compression=zstd")
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("kafka", t))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(ctx)
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "message", Data: []byte(`{"text":"hi"}`)})
//
// or, without the Gateway:
//
//	t, err := kafka.New(kafka.Config{Brokers: []string{"127.0.0.1:9092"}, Topic: "events.{type}"})
//	...
//	err = t.Send(ctx, ev) // nil once every in-sync replica has the record
package kafka
