// Package transport holds the transports that need nothing beyond the
// standard library, and the wrappers that compose transports.
//
// Endpoints:
//
//   - Null accepts and counts every event and delivers it nowhere.
//   - Callback hands every event to a Go function.
//   - Log writes every event as a record to a *slog.Logger.
//   - File appends every event as a line to a JSON Lines file.
//
// Wrappers, which take transports and are transports themselves: Retry,
// CircuitBreaker, Batch, Timeout, Multi, Fallback and RoundRobin.
//
// Constructors take functional options, each documented with its default.
// WithName is accepted by every constructor and WithClock by the wrappers
// that keep time; the other options belong to one constructor and carry its
// name (WithFileSync, WithLogLevel, …).
//
// The single-child wrappers (Retry, CircuitBreaker, Batch, Timeout) have an
// Unwrap method, and CircuitBreaker a CircuitState method, so a Gateway's
// route statistics report the state of a breaker wherever it sits in a chain.
// CircuitBreaker is this package's own rather than a third-party one: its
// clock can be injected (every transition is tested without sleeping), its
// state-change callback runs outside its lock, and an open breaker tells the
// caller when it will admit a probe (a Retry-After hint that Retry honours).
//
// Every transport here honours the eventgate.Transport contract: safe for
// concurrent use, errors are *eventgate.TransportError whose kind decides
// retrying, Close is idempotent, and after Close every Send fails with an
// error matching eventgate.ErrClosed. Each passes the conformance suite in
// package eventgatetest.
//
// A composed example: forward to a function that may fail (retried, behind a
// breaker), and in every case keep a durable local copy and a debug log.
//
//	audit, err := transport.NewFile("/var/lib/app/forwarded.jsonl",
//		transport.WithFileSync(transport.FileSyncFsync), // one fsync per batch
//		transport.WithFileMaxSize(64<<20),               // rotate at 64 MiB
//		transport.WithFileMaxBackups(10),
//	)
//	if err != nil {
//		return err
//	}
//	webhook := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
//		return postToWebhook(ctx, ev) // errors pass through; a panic becomes a rejected event
//	}, transport.WithName("webhook"))
//	debug := transport.NewLog(logger, transport.WithLogLevel(slog.LevelDebug), transport.WithLogData(false))
//
//	all := transport.Multi([]eventgate.Transport{
//		transport.Retry(transport.CircuitBreaker(webhook), transport.WithMaxAttempts(5)),
//		audit,
//		debug,
//	}, transport.RequireAll())
//	defer all.Close()
//	if err := all.Send(ctx, ev); err != nil {
//		return err
//	}
//
// Through a Gateway the same transport receives every logged event, in
// per-session order and at least once:
//
//	gw, err := eventgate.Open(dir, eventgate.WithTransport("fanout", all))
package transport
