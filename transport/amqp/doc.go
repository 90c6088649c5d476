// Package amqp is an eventgate transport that publishes events to an AMQP
// 0-9-1 broker such as RabbitMQ, with publisher confirms.
//
// Each event becomes one persistent message (delivery mode 2) whose body is
// the event's JSON form (eventgate.AppendJSON, Data byte for byte), with
// content type application/json, MessageId = event id (for consumer-side
// de-duplication of at-least-once re-deliveries), Type = event type,
// Timestamp = event time and headers = the event's Meta flattened by
// eventgate.FlattenMeta (string values as they are, other values as their
// compact JSON text; the body keeps Meta typed). The exchange and
// routing key are templates over {session} and {type}.
//
// Send returns only after the broker confirmed the message. Messages are
// published with the mandatory flag unless Config.DropUnroutable is set, so
// an event that no queue is bound for fails with KindRejected instead of
// vanishing. Channels are not shared between concurrent publishers: each
// Send or SendBatch takes a confirm-mode channel from a small pool
// (Config.Channels), which is what lets it tell its own returned and
// confirmed messages apart. When the connection drops, waiting Sends fail
// with a retryable KindConnection error and the next Send reconnects.
//
// Usage:
//
//	t, err := amqp.Open(ctx, "amqp://guest:guest@127.0.0.1:5672/?exchange=events&declare=true&routing_key=session.{session}")
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("rabbitmq", t))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(ctx)
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "message", Data: []byte(`{"text":"hi"}`)})
//
// or, without the Gateway:
//
//	t, err := amqp.New(amqp.Config{URL: "amqp://guest:guest@127.0.0.1:5672/", RoutingKey: "agent-events"})
//	...
//	err = t.Send(ctx, ev) // nil once the broker confirmed the message
package amqp
