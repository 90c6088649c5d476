// Package gcplogging is an eventgate transport that writes events to Google
// Cloud Logging with the official Go client (cloud.google.com/go/logging,
// its generated gRPC client for google.logging.v2.LoggingServiceV2).
//
// # Log entries
//
// Each event becomes one LogEntry of the configured log:
//
//	insertId     the event's ID (Cloud Logging de-duplicates entries with the
//	             same insertId and timestamp, so re-deliveries collapse)
//	timestamp    the event's time, to the nanosecond (none: the time received)
//	severity     from the event's type, see below
//	jsonPayload  the event's Data when it is a JSON object; any other value
//	             (string, number, array, null, empty) as {"data": <Data>},
//	             with the label eventgate.wrapped=true
//	labels       session_id, event_id, type (when not empty) and the Meta
//	             members, each as its own label, when all their values are
//	             strings; else one label "meta", the JSON object as given
//	resource     Config.ResourceType/ResourceLabels (default: global)
//
// A Meta key equal to one of the fixed labels (session_id, event_id, type,
// meta, eventgate.wrapped) or starting with "meta." is prefixed with "meta.".
// Labels hold only strings, so Meta with a value of another type (a number,
// a list, an object, true, null), or a repeated key, goes whole into one
// label "meta" holding the JSON object as given, and keeps its types. So does
// Meta that cannot be carried whole as labels (more than 64 labels in all,
// a key over 512 bytes or a value over 64 KiB, which Cloud Logging would
// drop or truncate). EventFromEntry inverts the mapping. Cloud Logging stores the
// payload as a protobuf Struct: numbers become doubles (integers beyond 2^53
// lose precision) and key order is not kept.
//
// # Severity
//
// Config.Severities maps exact event types to severities. Other types are
// matched, case-insensitively, by the first built-in rule whose word they
// contain: "critical", "fatal" or "panic" → CRITICAL; "error" or
// "exception" → ERROR; "warn" → WARNING; "debug" → DEBUG. Anything else is
// Config.DefaultSeverity (INFO).
//
// # Delivery
//
// Send makes one synchronous WriteLogEntries call and returns nil only when
// Cloud Logging accepted the entry. The library's Logger.Log buffers entries
// and reports failures through a process-wide OnError callback, so it cannot
// tell the caller which event failed; Logger.LogSync is synchronous but
// retries Unavailable, Internal and DeadlineExceeded with backoff up to 60s
// for as long as the context allows, and the first call in a process adds a
// diagnostic entry to another log. The transport therefore calls
// WriteLogEntries itself, with one attempt per call (eventgate's route
// retries; Config.ClientRetries turns the library's retries back on).
//
// SendBatch writes its events in order, in calls of at most 1,000 entries
// and 10,000,000 bytes (configurable), with partial_success: Cloud Logging
// writes the valid entries and reports the others by index
// (WriteLogEntriesPartialErrors), which become an *eventgate.BatchError. An
// entry over 256 KiB (protobuf size; Config.MaxEntryBytes) fails with a
// permanent KindRejected error without being sent; Data that a protobuf
// Struct cannot hold (invalid UTF-8, duplicate keys) is KindSerialization.
//
// # Errors
//
// gRPC codes map to kinds: Unavailable → KindConnection, DeadlineExceeded →
// KindTimeout, ResourceExhausted → KindThrottled, Aborted/Internal/Unknown →
// retryable KindUnknown; InvalidArgument, PermissionDenied, Unauthenticated,
// NotFound and the rest → permanent KindRejected. A google.rpc.RetryInfo
// detail becomes the error's RetryAfter hint. gRPC's reconnect backoff is
// capped at Config.ReconnectMaxDelay (5s) so that delivery resumes soon
// after the service is back.
//
// # Configuration
//
// The URL form is
//
//	gcplogging://PROJECT-ID/LOG-ID?severity.tool_error=ERROR&resource_type=global
//
// (see ParseURL). Credentials come from Application Default Credentials;
// Config.ClientOptions adds any option.ClientOption.
//
// # Testing
//
// No Cloud Logging emulator runs in this project's tests: they run the
// official client against an in-process gRPC server
// (internal/fakegcplogging) implementing WriteLogEntries, which validates the
// limits above, honours partial_success, de-duplicates by insertId, and
// injects gRPC errors, per-entry failures and restarts.
//
// # Usage
//
//	t, err := gcplogging.Open(ctx, "gcplogging://my-project/agent-events")
//	if err != nil {
//		return err
//	}
//	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("gcp", t,
//		eventgate.RouteBatch(500, 5<<20, 50*time.Millisecond)))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(ctx)
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "tool_error", Data: []byte(`{"tool":"search"}`)})
package gcplogging
