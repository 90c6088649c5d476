package configurl

import (
	"context"

	"github.com/eventgate/eventgate"
)

// Transport is what Open needs of a transport: Connect and Close.
type Transport interface {
	Connect(ctx context.Context) error
	Close() error
}

// Open is a transport's Open: parse(rawURL), create(cfg), then Connect. A
// URL that does not parse fails with a KindRejected error of transport
// defaultName; create's error is returned as is; when Connect fails the
// transport is closed and Connect's error returned. Nothing is left open on
// an error.
func Open[C any, T Transport](ctx context.Context, rawURL, defaultName string, parse func(string) (C, error), create func(C) (T, error)) (T, error) {
	var zero T
	cfg, err := parse(rawURL)
	if err != nil {
		return zero, eventgate.NewError(defaultName, eventgate.KindRejected, err)
	}
	t, err := create(cfg)
	if err != nil {
		return zero, err
	}
	if err := t.Connect(ctx); err != nil {
		_ = t.Close()
		return zero, err
	}
	return t, nil
}
