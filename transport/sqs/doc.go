// Package sqs is an eventgate transport that sends events to an Amazon SQS
// queue with the official AWS SDK for Go v2 (service/sqs), which speaks SQS's
// AWS JSON 1.0 protocol.
//
// # Messages
//
// Each event becomes one message. The body is the event's JSON form
// (eventgate.AppendJSON: id, session_id, type, time, data byte for byte,
// meta), so a consumer needs nothing but the body. Message attributes, all of
// type String, repeat what consumers filter on:
//
//	session_id   the event's SessionID
//	event_id     the event's ID (for de-duplicating at-least-once deliveries)
//	type         the event's Type
//	meta.<key>   one per top-level Meta member, flattened by
//	             eventgate.FlattenMeta, when every member fits, else
//	meta         the whole Meta object, its JSON text as given
//
// SQS refuses empty attribute values and characters outside its allowed set
// (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), so a value that
// is empty or has such characters is left out; the body always has it.
//
// Flattening (eventgate.FlattenMeta) keeps string values as they are and
// gives every other value as its compact JSON text (0.2, true, ["a","b"]);
// nested objects are not flattened further. SQS allows 10 attributes per
// message. Meta is carried as "meta.<key>"
// attributes only when all of its entries fit in the slots left (7, or 8
// without a type) and each key makes a valid attribute name (A-Z a-z 0-9 _ -
// ., no leading, trailing or doubled period) and each value is non-empty;
// otherwise, all or nothing, it is one "meta" attribute holding the JSON
// object. Either way the body has the complete Meta.
//
// # FIFO queues
//
// A queue whose name (or URL) ends in ".fifo" is a FIFO queue: MessageGroupId
// is the session id, so SQS keeps each session's order, and
// MessageDeduplicationId is the event id, so SQS drops a re-delivered event
// within its five-minute de-duplication window. Both must be 1 to 128
// characters of letters, digits and ASCII punctuation; a session or event id
// outside that set is replaced by "sha256-" and the hex SHA-256 of it (stable,
// so re-deliveries still de-duplicate).
//
// # Limits
//
// A message may be at most Config.MaxMessageBytes (default 262,144), counted
// as SQS counts it: body plus every attribute's name, type and value. A larger
// event, or one whose body holds characters SQS refuses (raw U+FFFE, U+FFFF,
// invalid UTF-8), fails with a permanent KindRejected error without being
// sent; invalid Data is KindSerialization. SendBatch splits its events, in
// order, into SendMessageBatch requests of at most 10 entries and
// Config.MaxBatchBytes (default 262,144) in all.
//
// # Errors and retries
//
// Every error is an *eventgate.TransportError. Throttling (RequestThrottled,
// ThrottlingException, KMS throttling, HTTP 429) is KindThrottled; refused or
// broken connections and 502/503/504 are KindConnection; deadlines are
// KindTimeout; other 5xx answers are retryable (KindUnknown); 4xx answers
// (validation, a missing queue, access denied) are permanent KindRejected. In
// a batch, a failed entry with SenderFault is permanent and any other failed
// entry retryable; they are reported in an *eventgate.BatchError.
//
// The SDK's own retryer is off by default (Config.MaxAttempts = 1): the
// eventgate route retries with its own backoff and dead-letter policy, and
// two stacked retry loops multiply the delays a caller sees during an outage
// and hide failures from the route's statistics. Set MaxAttempts above 1 to
// have the SDK retry transient errors too (standard retryer, no client-side
// retry quota).
//
// # Configuration
//
// The URL form, for configuration files, is
//
//	sqs://QUEUE-NAME?region=us-east-1&endpoint=http://127.0.0.1:9324&queue_url=...&create=true
//
// (see ParseURL for every parameter). Credentials come from the standard AWS
// chain (environment, shared files, SSO, web identity, container and EC2
// roles); Config.AWS takes a ready aws.Config instead.
//
// # Testing
//
// No SQS emulator runs in this project's tests: they run the official SDK
// client against an in-process server (internal/fakeaws) that implements
// SQS's JSON protocol for CreateQueue, GetQueueUrl, SendMessage,
// SendMessageBatch, ReceiveMessage and DeleteMessage(Batch), validates
// requests as SQS documents it for the limits above, and injects throttling,
// 5xx answers, dropped connections and restarts.
//
// # Usage
//
//	t, err := sqs.Open(ctx, "sqs://agent-events.fifo?region=eu-west-1")
//	if err != nil {
//		return err
//	}
//	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("sqs", t,
//		eventgate.RouteBatch(10, 256<<10, 5*time.Millisecond)))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(ctx)
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "message", Data: []byte(`{"text":"hi"}`)})
//
// or directly:
//
//	t, err := sqs.New(sqs.Config{QueueName: "agent-events", Region: "us-east-1"})
//	...
//	err = t.Send(ctx, ev) // nil once SQS accepted the message
package sqs
