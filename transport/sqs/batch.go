package sqs

import (
	"context"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/batchx"
)

// batchEntry is one message of a SendMessageBatch request and the index of
// its event in the slice given to SendBatch.
type batchEntry struct {
	index int
	msg   message
}

// SendBatch delivers evs with SendMessageBatch, in order, split into requests
// of at most 10 entries and Config.MaxBatchBytes of total payload.
//
// It returns nil when every event was accepted. An event that can never be
// sent (too large, invalid Data) fails alone with a permanent error. When SQS
// fails single entries, the result is an *eventgate.BatchError: entries with
// a sender fault are permanent (KindRejected), throttled ones KindThrottled,
// others retryable. Requests are sent one after the other; after a request
// fails as a whole, or has a retryable entry failure, the later requests are
// not sent and their events are reported as failed with a retryable error,
// so a retry keeps each session's order. When nothing was accepted because
// the first request failed as a whole, that request's error is returned as
// is.
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
	buf := t.getBuf()
	entries := make([]batchEntry, 0, len(evs))
	for i, ev := range evs {
		m, err := t.buildMessage(ev, buf)
		if err != nil {
			failed[i] = err
			continue
		}
		entries = append(entries, batchEntry{index: i, msg: m})
	}
	t.putBuf(buf)

	chunks := splitBatch(entries, MaxBatchEntries, t.cfg.MaxBatchBytes)
	if len(chunks) > 1 {
		t.cfg.Logger.Debug("sqs: batch split", "events", len(evs), "requests", len(chunks))
	}
	held := func() error { return eventgate.NewError(t.cfg.Name, eventgate.KindUnknown, errNotAttempted) }
	err = batchx.SendChunks(chunks, func(e batchEntry) int { return e.index }, failed, len(entries) == len(evs), held,
		func(chunk []batchEntry) (bool, error) { return t.sendChunk(ctx, c, chunk, failed) })
	if err != nil {
		return err // nothing accepted: the request's own error
	}
	return batchx.Result(failed)
}

// sendChunk sends one SendMessageBatch request and records failures by event
// index. stop reports that later chunks must be held back; whole is the
// request's error when it failed as a whole.
func (t *Transport) sendChunk(ctx context.Context, c *connection, chunk []batchEntry, failed map[int]error) (stop bool, whole error) {
	in := &sqs.SendMessageBatchInput{
		QueueUrl: aws.String(c.queueURL),
		Entries:  make([]types.SendMessageBatchRequestEntry, len(chunk)),
	}
	for i, e := range chunk {
		in.Entries[i] = types.SendMessageBatchRequestEntry{
			Id:                     aws.String(strconv.Itoa(i)),
			MessageBody:            aws.String(e.msg.body),
			MessageAttributes:      e.msg.attrs,
			MessageGroupId:         e.msg.groupID,
			MessageDeduplicationId: e.msg.dedupID,
		}
	}
	cctx, cancel := t.callContext(ctx)
	defer cancel()
	out, err := c.client.SendMessageBatch(cctx, in)
	if err != nil {
		err = t.wrap(cctx, "send message batch", err)
		for _, e := range chunk {
			failed[e.index] = err
		}
		return true, err
	}
	answered := make([]bool, len(chunk))
	for _, s := range out.Successful {
		if i, ok := entryIndex(s.Id, len(chunk)); ok {
			answered[i] = true
		}
	}
	for _, f := range out.Failed {
		i, ok := entryIndex(f.Id, len(chunk))
		if !ok {
			continue
		}
		answered[i] = true
		err := t.entryError(f)
		failed[chunk[i].index] = err
		if eventgate.Retryable(err) {
			stop = true
		}
	}
	for i, ok := range answered {
		if !ok { // SQS named the entry neither successful nor failed
			failed[chunk[i].index] = eventgate.NewError(t.cfg.Name, eventgate.KindUnknown,
				errMissingEntry)
			stop = true
		}
	}
	return stop, nil
}

func entryIndex(id *string, n int) (int, bool) {
	i, err := strconv.Atoi(aws.ToString(id))
	if err != nil || i < 0 || i >= n {
		return 0, false
	}
	return i, true
}

// splitBatch cuts entries, in order, into chunks of at most maxEntries whose
// message sizes add up to at most maxBytes. Every entry is at most
// Config.MaxMessageBytes, which Validate keeps at or below MaxBatchBytes, so a
// lone entry always fits.
func splitBatch(entries []batchEntry, maxEntries, maxBytes int) [][]batchEntry {
	return batchx.Split(entries, batchx.Limits{MaxItems: maxEntries, MaxBytes: maxBytes},
		func(e batchEntry) int { return e.msg.size }, nil)
}
