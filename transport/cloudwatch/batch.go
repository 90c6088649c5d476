package cloudwatch

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/batchx"
)

var errNotSent = errors.New("cloudwatch: not sent: an earlier PutLogEvents call of the batch failed")

// SendBatch delivers evs with PutLogEvents, split into as few calls as the
// service's limits allow: at most 10,000 events, at most 1,048,576 bytes
// counting len(message)+26 per event, a time span under 24 hours, events in
// chronological order.
//
// Events are sorted by timestamp, stably. A session whose events go back in
// time within evs keeps its order: such an event's CloudWatch timestamp is
// raised to that of the session's previous event (its message still carries
// the exact time). Across separate calls CloudWatch Logs orders by timestamp
// alone.
//
// It returns nil when every event was accepted. An event that can never be
// sent (too large, invalid Data) fails alone; events CloudWatch refuses as
// too old, too new or expired (rejectedLogEventsInfo) fail with permanent
// KindRejected errors; all are reported in an *eventgate.BatchError. When a
// call fails as a whole, its events fail with its error and later calls are
// not made (their events fail with a retryable error); when that happens to
// the first call, with nothing accepted, its error is returned as is.
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
	entries := make([]logEvent, 0, len(evs))
	last := map[string]int64{}
	for i, ev := range evs {
		e, err := t.encode(ev)
		if err != nil {
			failed[i] = err
			continue
		}
		e.index = i
		if prev, ok := last[e.session]; ok && e.ts < prev {
			e.ts = prev
		}
		last[e.session] = e.ts
		entries = append(entries, e)
	}
	slices.SortStableFunc(entries, func(a, b logEvent) int { return cmp.Compare(a.ts, b.ts) })
	chunks := splitBatch(entries)
	if len(chunks) > 1 {
		t.cfg.Logger.Debug("cloudwatch: batch split", "events", len(evs), "calls", len(chunks))
	}
	held := func() error { return eventgate.NewError(t.cfg.Name, eventgate.KindUnknown, errNotSent) }
	err = batchx.SendChunks(chunks, func(e logEvent) int { return e.index }, failed, len(entries) == len(evs), held,
		func(chunk []logEvent) (bool, error) {
			err := t.put(ctx, c, chunk, failed)
			return err != nil, err
		})
	if err != nil {
		return err
	}
	return batchx.Result(failed)
}

// splitBatch cuts time-sorted events into PutLogEvents calls within the
// count, byte and time-span limits. A new call starts when the next event
// would make the span reach 24 hours, so every call stays strictly under it.
func splitBatch(entries []logEvent) [][]logEvent {
	return batchx.Split(entries, batchx.Limits{MaxItems: MaxBatchEvents, MaxBytes: MaxBatchBytes}, logEvent.size,
		func(first, next logEvent) bool { return next.ts-first.ts >= MaxBatchSpan.Milliseconds() })
}

// put makes one PutLogEvents call for a sorted chunk. It returns the call's
// error when it failed as a whole, and records events refused one by one
// (rejectedLogEventsInfo) in failed by their index.
func (t *Transport) put(ctx context.Context, c *connection, chunk []logEvent, failed map[int]error) error {
	in := &cloudwatchlogs.PutLogEventsInput{
		LogGroupName:  aws.String(t.cfg.LogGroup),
		LogStreamName: aws.String(t.cfg.LogStream),
		LogEvents:     make([]types.InputLogEvent, len(chunk)),
	}
	for i, e := range chunk {
		in.LogEvents[i] = types.InputLogEvent{Message: aws.String(e.message), Timestamp: aws.Int64(e.ts)}
	}
	ctx, cancel := t.callContext(ctx)
	defer cancel()
	out, err := c.client.PutLogEvents(ctx, in)
	var missing *types.ResourceNotFoundException
	if err != nil && t.cfg.Create && errors.As(err, &missing) {
		t.cfg.Logger.Debug("cloudwatch: log group or stream missing; creating it again", "err", err)
		if cerr := t.create(ctx, c.client); cerr != nil {
			return cerr
		}
		out, err = c.client.PutLogEvents(ctx, in)
	}
	var accepted *types.DataAlreadyAcceptedException
	if errors.As(err, &accepted) {
		return nil // the same batch was accepted before
	}
	if err != nil {
		return t.wrap(ctx, "put log events", err)
	}
	if info := out.RejectedLogEventsInfo; info != nil {
		reject := func(lo, hi int, why string) {
			lo, hi = max(lo, 0), min(hi, len(chunk))
			for i := lo; i < hi; i++ {
				failed[chunk[i].index] = eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
					fmt.Errorf("cloudwatch: event refused by CloudWatch Logs: %s (timestamp %d)", why, chunk[i].ts))
			}
		}
		if info.TooOldLogEventEndIndex != nil {
			reject(0, int(*info.TooOldLogEventEndIndex), "too old (more than 14 days, or before the log group's retention)")
		}
		if info.ExpiredLogEventEndIndex != nil {
			reject(0, int(*info.ExpiredLogEventEndIndex), "expired (older than the log group's retention)")
		}
		if info.TooNewLogEventStartIndex != nil {
			reject(int(*info.TooNewLogEventStartIndex), len(chunk), "too new (more than 2 hours in the future)")
		}
	}
	return nil
}
