// Package mqtt publishes eventgate events to an MQTT 3.1.1 broker
// (Mosquitto, EMQX, HiveMQ, …) with the Eclipse Paho client
// (github.com/eclipse/paho.mqtt.golang).
//
// # Messages
//
// Each event is one PUBLISH whose payload is the event's JSON form
// (eventgate.AppendJSON: id, session_id, type, time, data byte for byte,
// meta, its JSON object as given, so values keep their types; MQTT 3.1.1 has
// no headers to flatten it into) to the topic Config.Topic names, default
// "eventgate/events/{session}". {session} and {type} are replaced by the
// event's session id and type, escaped by EscapeTopicLevel: '/', '+', '#',
// '$', '%' and control characters are percent-encoded, so every value is
// exactly one topic level, wildcards never reach a topic name, and two
// session ids never share a topic. A subscriber to "eventgate/events/+"
// gets every session; UnescapeTopicLevel turns a level back into the id
// (the payload carries it too).
//
// QoS 1 is the default: Send returns after the broker's PUBACK, so a nil
// error means the broker has the message. QoS 2 waits for PUBCOMP; QoS 0
// returns once the message is written, with no confirmation. The retained
// flag is optional. One publisher's messages reach a QoS 1 subscriber in
// the order they were sent. MQTT has no message id of its own, so
// subscribers de-duplicate the re-deliveries that at-least-once allows by
// the event id in the payload.
//
// # Connections and outages
//
// The transport keeps one connection with a clean session and a client id
// unique to the Transport. Paho's own reconnect machinery (AutoReconnect,
// ConnectRetry) is deliberately off, for three reasons. While disconnected,
// paho would accept publishes into an in-memory store and replay them after
// reconnecting: a second, unbounded, non-durable queue beside the
// Gateway's journal, whose replays race with the Gateway's own retries and
// can reorder a session. Its reconnect loop sleeps without interruption
// (up to MaxReconnectInterval), so its goroutines could outlive Close. And
// with a Send blocked on a token of a message paho holds for later, "the
// broker is down" would look like a timeout rather than a connection error.
//
// Instead the transport reconnects on demand: when a Send finds the
// connection lost (or never made), it starts a new connection attempt
// (bounded by ConnectTimeout; concurrent Sends share it) and waits for it
// within its context and Config.Timeout. A failed attempt makes Sends fail
// at once with its retryable KindConnection error for ReconnectWait, then
// the next Send tries again. Nothing is queued in memory: the caller's
// retry (the Gateway's route) re-sends from its durable journal. A publish
// whose connection breaks before the acknowledgement fails with
// KindConnection; the broker may or may not have it, so a retry can make a
// duplicate, never a loss.
//
// The transport dials TCP and TLS brokers itself (honouring all_proxy and
// no_proxy, as paho does) so that, on Linux, the connection acknowledges
// what the broker sends at once (TCP_QUICKACK after every read). A broker
// with Nagle's algorithm on — Mosquitto's default, set_tcp_nodelay false —
// otherwise holds back each PUBACK until the previous one was ACKed, and the
// client's delayed ACK turns every SendBatch of QoS 1 publishes into a
// ~40 ms wait; with it, a batch of 100 takes about 1 ms on loopback.
// WebSocket brokers go through paho's own dialer.
//
// Errors map to kinds: unreachable broker, lost connection →
// KindConnection; no answer in time → KindTimeout; credentials, client id
// or protocol refused → KindRejected (permanent); a message over
// MaxMessageSize or an unusable topic → KindRejected; Data that is not JSON
// → KindSerialization.
//
// # Usage
//
//	tr, err := mqtt.Open(ctx, "mqtt://127.0.0.1:1883?topic=eventgate/events/{session}&qos=1&timeout=5s")
//	if err != nil {
//		return err
//	}
//	gw, err := eventgate.Open("logs/sessions", eventgate.WithTransport("mqtt", tr))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(context.Background())
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "step", Data: []byte(`{"n":1}`)})
//
// Or with a Config:
//
//	tr, err := mqtt.New(mqtt.Config{
//		Broker:   "ssl://broker.example:8883",
//		Username: "gateway",
//		Password: os.Getenv("MQTT_PASSWORD"),
//		Topic:    "agents/{session}/{type}",
//		QoS:      mqtt.QoS1,
//	})
package mqtt
