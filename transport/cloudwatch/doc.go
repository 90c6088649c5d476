// Package cloudwatch is an eventgate transport that writes events to an
// Amazon CloudWatch Logs log stream with the official AWS SDK for Go v2
// (service/cloudwatchlogs), which speaks the AWS JSON 1.1 protocol.
//
// # Log events
//
// Each event becomes one log event: the message is the event's JSON form
// (eventgate.AppendJSON: id, session_id, type, time, data byte for byte,
// meta) and the timestamp is the event's time in milliseconds (the time of
// sending for an event without a time). CloudWatch Logs has no
// de-duplication; readers drop re-deliveries by the "id" in the message.
//
// # Batches and limits
//
// SendBatch sorts its events by timestamp (stably) and makes as few
// PutLogEvents calls as the service allows: at most 10,000 events, at most
// 1,048,576 bytes counting len(message) + 26 per event, and a span from
// first to last event under 24 hours (a new call starts at 24 hours, so a
// call never reaches the limit). A session whose times go back within one
// batch keeps its order: such an event's timestamp is raised to that of the
// session's previous event, while its message keeps the exact time. Across
// calls CloudWatch Logs orders a stream by timestamp alone, so events of one
// session whose times go back come back in time order, not in send order.
//
// A message longer than Config.MaxEventBytes (default 262,118: 256 KiB less
// the 26-byte overhead; the service now takes up to 1 MB per event) fails
// with a permanent KindRejected error without being sent; Data that is not
// valid JSON or not valid UTF-8 is KindSerialization. Events the service
// refuses one by one (rejectedLogEventsInfo: more than 14 days old or before
// the group's retention, more than 2 hours ahead) fail with permanent
// KindRejected errors in an *eventgate.BatchError (or as Send's error).
//
// # Errors and retries
//
// ThrottlingException and HTTP 429 are KindThrottled; ServiceUnavailable-
// Exception, 502/503/504 and failed connections are KindConnection;
// deadlines KindTimeout; other server faults retryable (KindUnknown);
// InvalidParameterException, ResourceNotFoundException (when Config.Create is
// off), UnrecognizedClientException and AccessDeniedException are permanent
// KindRejected. DataAlreadyAcceptedException counts as accepted. With
// Config.Create, a ResourceNotFoundException makes the transport create the
// group and stream again and retry the call once.
//
// The SDK's own retryer is off by default (Config.MaxAttempts = 1): the
// eventgate route retries with its own backoff and dead-letter policy, and
// stacked retry loops multiply the delays during an outage. Set MaxAttempts
// above 1 to have the SDK retry too.
//
// # Configuration
//
// The URL form is
//
//	cloudwatch://LOG-GROUP/LOG-STREAM?region=us-east-1&endpoint=http://127.0.0.1:4566&create=true
//	cloudwatch://?group=/aws/agents/prod&stream=gateway-1&region=eu-west-1
//
// (see ParseURL). Credentials come from the standard AWS chain; Config.AWS
// takes a ready aws.Config instead.
//
// # Testing
//
// No CloudWatch Logs emulator runs in this project's tests: they run the
// official SDK client against an in-process server (internal/fakeaws) that
// implements the JSON 1.1 protocol for CreateLogGroup, CreateLogStream,
// PutLogEvents, GetLogEvents and FilterLogEvents, enforces the limits above
// (count, bytes with the 26-byte overhead, 24-hour span, chronological order,
// event size, too old/too new/expired) and injects throttling, 5xx answers,
// dropped connections and restarts.
//
// # Usage
//
//	t, err := cloudwatch.Open(ctx, "cloudwatch://?group=/agents/prod&stream=gw-1&region=eu-west-1&create=true")
//	if err != nil {
//		return err
//	}
//	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("cloudwatch", t,
//		eventgate.RouteBatch(1000, 1<<20, 100*time.Millisecond)))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(ctx)
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "message", Data: []byte(`{"text":"hi"}`)})
package cloudwatch
