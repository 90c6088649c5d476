package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

// streamConfig is the stream the transport creates when CreateStream is set.
func (t *Transport) streamConfig() jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if t.cfg.Storage == StorageMemory {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:       t.cfg.Stream,
		Subjects:   slices.Clone(t.cfg.StreamSubjects),
		Storage:    storage,
		MaxAge:     t.cfg.MaxAge,
		Duplicates: t.cfg.DuplicateWindow,
		Replicas:   t.cfg.Replicas,
	}
}

// prepareStream makes the stream ready for publishing. With CreateStream it
// creates the stream, or updates an existing one so that it also captures
// StreamSubjects and has the configured MaxAge and DuplicateWindow (other
// settings of an existing stream are kept; its storage type cannot change).
// Without CreateStream, a named Stream must exist. The caller holds connMu.
func (t *Transport) prepareStream(ctx context.Context, c *conn) error {
	if t.cfg.Stream == "" {
		return nil
	}
	s, err := c.js.Stream(ctx, t.cfg.Stream)
	switch {
	case errors.Is(err, jetstream.ErrStreamNotFound):
		if !t.cfg.CreateStream {
			return eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
				fmt.Errorf("nats: stream %q does not exist (create it, or set create_stream=true)", t.cfg.Stream))
		}
		_, err = c.js.CreateStream(ctx, t.streamConfig())
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return wrapErr(t.cfg.Name, "create stream "+t.cfg.Stream, err)
		}
		// Someone else created it meanwhile: update it like an existing one.
		if s, err = c.js.Stream(ctx, t.cfg.Stream); err != nil {
			return wrapErr(t.cfg.Name, "stream info "+t.cfg.Stream, err)
		}
	case err != nil:
		return wrapErr(t.cfg.Name, "stream info "+t.cfg.Stream, err)
	}
	if !t.cfg.CreateStream {
		return nil
	}
	cur := s.CachedInfo().Config
	want := t.streamConfig()
	if cur.Storage != want.Storage {
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("nats: stream %q exists with %s storage, configured %s; storage cannot change", t.cfg.Stream, cur.Storage, want.Storage))
	}
	upd := cur
	upd.Subjects = slices.Clone(cur.Subjects)
	for _, subj := range want.Subjects {
		if !slices.Contains(upd.Subjects, subj) {
			upd.Subjects = append(upd.Subjects, subj)
		}
	}
	upd.MaxAge = want.MaxAge
	upd.Duplicates = want.Duplicates
	if slices.Equal(upd.Subjects, cur.Subjects) && upd.MaxAge == cur.MaxAge && upd.Duplicates == cur.Duplicates {
		return nil
	}
	_, err = c.js.UpdateStream(ctx, upd)
	return wrapErr(t.cfg.Name, "update stream "+t.cfg.Stream, err)
}
