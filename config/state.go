package config

import (
	"context"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

// withState makes the outermost transport report the breaker's state to the
// Gateway's stats (eventgate.StateReporter), keeping its optional
// capabilities.
func withState(t eventgate.Transport, b transport.BreakerTransport) eventgate.Transport {
	s := stated{Transport: t, b: b}
	if _, ok := t.(eventgate.BatchSender); ok {
		return &statedBatch{s}
	}
	return &s
}

type stated struct {
	eventgate.Transport
	b transport.BreakerTransport
}

// State returns the breaker's state: closed, open or half-open.
func (s *stated) State() string { return s.b.State().String() }

// Connect connects the wrapped transport when it can.
func (s *stated) Connect(ctx context.Context) error {
	if c, ok := s.Transport.(eventgate.Connector); ok {
		return c.Connect(ctx)
	}
	return nil
}

// Name returns the wrapped transport's name.
func (s *stated) Name() string {
	if n, ok := s.Transport.(eventgate.Namer); ok {
		return n.Name()
	}
	return ""
}

type statedBatch struct{ stated }

func (s *statedBatch) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	return s.Transport.(eventgate.BatchSender).SendBatch(ctx, evs)
}
