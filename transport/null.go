package transport

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/eventgate/eventgate"
)

// NameOption sets the name a transport reports through eventgate.Namer and
// puts in its errors. It is accepted by NewNull, NewCallback, NewLog and
// NewFile; each has its own default ("null", "callback", "log", "file").
type NameOption struct{ name string }

// WithName names the transport. An empty name keeps the default.
func WithName(name string) NameOption { return NameOption{name} }

func (o NameOption) applyNull(n *Null) {
	if o.name != "" {
		n.name = o.name
	}
}

func (o NameOption) applyCallback(c *Callback) {
	if o.name != "" {
		c.name = o.name
	}
}

func (o NameOption) applyLog(l *Log) {
	if o.name != "" {
		l.name = o.name
	}
}

func (o NameOption) applyFile(c *fileConfig) {
	if o.name != "" {
		c.name = o.name
	}
}

// NullOption configures NewNull. The only one is WithName.
type NullOption interface{ applyNull(*Null) }

// Null is a transport that accepts every event and delivers it nowhere (the
// seed's NullTransport). It counts what it accepted. Send and SendBatch do
// not allocate.
//
// Null implements eventgate.Transport, eventgate.BatchSender,
// eventgate.Connector and eventgate.Namer, and is safe for concurrent use.
type Null struct {
	name      string
	count     atomic.Int64
	closed    atomic.Bool
	closedErr error
}

// NewNull returns an open Null named "null" (see WithName).
func NewNull(opts ...NullOption) *Null {
	n := &Null{name: "null"}
	for _, o := range opts {
		o.applyNull(n)
	}
	n.closedErr = eventgate.NewError(n.name, eventgate.KindClosed, errors.New("transport closed"))
	return n
}

// Name returns the transport's name, default "null".
func (n *Null) Name() string { return n.name }

// Send accepts ev and counts it. It fails only after Close (an error matching
// eventgate.ErrClosed) or when ctx has already ended (wrapping ctx.Err()).
func (n *Null) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := n.admit(ctx); err != nil {
		return err
	}
	n.count.Add(1)
	return nil
}

// SendBatch accepts and counts every event of evs, on the same terms as Send.
func (n *Null) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if err := n.admit(ctx); err != nil {
		return err
	}
	n.count.Add(int64(len(evs)))
	return nil
}

func (n *Null) admit(ctx context.Context) error {
	if n.closed.Load() {
		return n.closedErr
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(n.name, err)
	}
	return nil
}

// Connect does nothing; it fails only after Close.
func (n *Null) Connect(ctx context.Context) error {
	if n.closed.Load() {
		return n.closedErr
	}
	return nil
}

// Count returns how many events Null has accepted.
func (n *Null) Count() int64 { return n.count.Load() }

// Close makes later calls fail with an error matching eventgate.ErrClosed.
// It is idempotent and returns nil.
func (n *Null) Close() error {
	n.closed.Store(true)
	return nil
}
