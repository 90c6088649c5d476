package eventgate

import "context"

// Transport delivers events to one downstream system.
//
// Send returns nil only when the downstream accepted the event; any other
// outcome is an error, preferably a *TransportError whose kind tells the
// caller whether retrying can help. Send must honour ctx: when ctx ends before
// the downstream answered, Send returns an error wrapping ctx.Err().
//
// Implementations must be safe for concurrent use. After Close returns, Send
// returns an error that matches ErrClosed. Close is idempotent.
type Transport interface {
	Send(ctx context.Context, ev *Event) error
	Close() error
}

// Connector is implemented by transports that can establish their connection
// ahead of the first Send (the seed's connect()). Connect is idempotent; a
// transport that implements it still connects lazily on the first Send when
// Connect was never called.
type Connector interface {
	Connect(ctx context.Context) error
}

// BatchSender is implemented by transports with a bulk API. SendBatch returns
// nil only when every event was accepted. When only some were, it returns a
// *BatchError that gives each failed event its own error; events not named in
// it were accepted. Any other error means none of the batch can be assumed
// delivered.
type BatchSender interface {
	SendBatch(ctx context.Context, evs []*Event) error
}

// Namer is implemented by transports that report a name for errors, stats and
// logs (for example "redis" or "kafka").
type Namer interface {
	Name() string
}
