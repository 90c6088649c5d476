package gcplogging

import (
	"context"
	"errors"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/grpc/status"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/batchx"
)

var errNotSent = errors.New("gcplogging: not sent: an earlier WriteLogEntries call of the batch failed")

// entryOverhead bounds what one entry adds to a request beyond its own
// size: the field tag and the length prefix.
const entryOverhead = 6

// SendBatch writes evs with WriteLogEntries, in order, in calls of at most
// Config.MaxBatchEntries entries and Config.MaxRequestBytes, with
// partial_success set so that Cloud Logging writes the valid entries of a
// call and reports the others one by one.
//
// It returns nil when every event was accepted. An event that can never be
// written (too large, Data protobuf's JSON cannot hold) fails alone; entries
// Cloud Logging refuses fail with the kind of their own status; all are
// reported in an *eventgate.BatchError. When a call fails as a whole, its
// events fail with its error and later calls are not made (their events fail
// with a retryable error); when that happens to the first call, with nothing
// accepted, its error is returned as is.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.gate.Leave()
	if len(evs) == 0 {
		return nil
	}
	c, err := t.connect(ctx)
	if err != nil {
		return err
	}
	failed := map[int]error{}
	entries := make([]entry, 0, len(evs))
	for i, ev := range evs {
		e, err := t.toEntry(ev)
		if err != nil {
			failed[i] = err
			continue
		}
		e.index = i
		entries = append(entries, e)
	}
	chunks := t.split(entries)
	held := func() error { return eventgate.NewError(t.cfg.Name, eventgate.KindUnknown, errNotSent) }
	err = batchx.SendChunks(chunks, func(e entry) int { return e.index }, failed, len(entries) == len(evs), held,
		func(chunk []entry) (bool, error) {
			err := t.write(ctx, c, chunk, failed)
			return err != nil, err
		})
	if err != nil {
		return err
	}
	return batchx.Result(failed)
}

// split cuts entries, in order, into calls within the entry and byte limits.
func (t *Transport) split(entries []entry) [][]entry {
	base := len(t.logName) + 64
	for k, v := range t.resource.GetLabels() {
		base += len(k) + len(v) + 8
	}
	lim := batchx.Limits{MaxItems: t.cfg.MaxBatchEntries, MaxBytes: t.cfg.MaxRequestBytes, Base: base}
	return batchx.Split(entries, lim, func(e entry) int { return e.size + entryOverhead }, nil)
}

// write makes one WriteLogEntries call. It returns the call's error when
// nothing was written, and records entries refused one by one in failed.
func (t *Transport) write(ctx context.Context, c writer, chunk []entry, failed map[int]error) error {
	req := &loggingpb.WriteLogEntriesRequest{
		LogName:        t.logName,
		Resource:       t.resource,
		Entries:        make([]*loggingpb.LogEntry, len(chunk)),
		PartialSuccess: true,
	}
	for i, e := range chunk {
		req.Entries[i] = e.pb
	}
	ctx, cancel := t.callContext(ctx)
	defer cancel()
	_, err := c.WriteLogEntries(ctx, req, t.callOpts...)
	if err == nil {
		return nil
	}
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			pe, ok := d.(*loggingpb.WriteLogEntriesPartialErrors)
			if !ok || len(pe.GetLogEntryErrors()) == 0 {
				continue
			}
			for idx, es := range pe.GetLogEntryErrors() {
				if int(idx) >= 0 && int(idx) < len(chunk) {
					failed[chunk[idx].index] = t.entryError(status.FromProto(es))
				}
			}
			return nil // the other entries were written
		}
	}
	return t.wrap(ctx, "write log entries", err)
}
