package kafka

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
)

// newCluster starts an in-process Kafka cluster (kfake speaks the real
// protocol) that is closed when the test ends.
func newCluster(tb testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	tb.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(1)}, opts...)...)
	if err != nil {
		tb.Fatalf("start kfake cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

// uniqueTopic returns a topic name no other test uses.
func uniqueTopic(prefix string) string { return prefix + "-" + eventgate.NewID() }

// createTopic creates topic with the given partitions and configs.
func createTopic(tb testing.TB, c *kfake.Cluster, topic string, partitions int32, configs map[string]string) {
	tb.Helper()
	if err := c.CreateTopic(topic, partitions, configs); err != nil {
		tb.Fatalf("create topic %s: %v", topic, err)
	}
}

// readTopic consumes topic from the start up to the high watermark each
// partition has now, and decodes every record. Events come partition by
// partition, each partition in offset order. It checks that each record's
// key and event_id header agree with its value.
func readTopic(ctx context.Context, c *kfake.Cluster, topic string) ([]*eventgate.Event, error) {
	ends := make(map[int32]int64)
	starts := make(map[int32]kgo.Offset)
	for _, pi := range c.PartitionInfos(topic) {
		if pi.HighWatermark > pi.LogStartOffset {
			ends[pi.Partition] = pi.HighWatermark
			starts[pi.Partition] = kgo.NewOffset().AtStart()
		}
	}
	if len(ends) == 0 {
		return nil, nil
	}
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(c.ListenAddrs()...),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: starts}),
		kgo.FetchMaxBytes(64<<20),
	)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	got := make(map[int32][]*eventgate.Event)
	remaining := len(ends)
	for remaining > 0 {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		for _, fe := range fs.Errors() {
			return nil, fmt.Errorf("fetch %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
		}
		var decodeErr error
		fs.EachRecord(func(r *kgo.Record) {
			end, ok := ends[r.Partition]
			if !ok || r.Offset >= end || decodeErr != nil {
				return
			}
			ev, err := decodeRecord(r)
			if err != nil {
				decodeErr = err
				return
			}
			got[r.Partition] = append(got[r.Partition], ev)
			if r.Offset == end-1 {
				remaining--
			}
		})
		if decodeErr != nil {
			return nil, decodeErr
		}
	}
	parts := make([]int32, 0, len(got))
	for p := range got {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var out []*eventgate.Event
	for _, p := range parts {
		out = append(out, got[p]...)
	}
	return out, nil
}

// decodeRecord decodes a record's value and cross-checks key and headers.
func decodeRecord(r *kgo.Record) (*eventgate.Event, error) {
	ev := new(eventgate.Event)
	if err := ev.UnmarshalJSON(r.Value); err != nil {
		return nil, fmt.Errorf("offset %d: %w", r.Offset, err)
	}
	if string(r.Key) != ev.SessionID {
		return nil, fmt.Errorf("offset %d: key %q, session id %q", r.Offset, r.Key, ev.SessionID)
	}
	var id, typ string
	var idSeen, typeSeen bool
	meta := make(map[string]string)
	for _, h := range r.Headers {
		switch h.Key {
		case HeaderEventID:
			id, idSeen = string(h.Value), true
		case HeaderEventType:
			typ, typeSeen = string(h.Value), true
		default:
			meta[h.Key] = string(h.Value)
		}
	}
	if !idSeen || id != ev.ID {
		return nil, fmt.Errorf("offset %d: event_id header %q (present %v), value id %q", r.Offset, id, idSeen, ev.ID)
	}
	if !typeSeen || typ != ev.Type {
		return nil, fmt.Errorf("offset %d: event_type header %q (present %v), value type %q", r.Offset, typ, typeSeen, ev.Type)
	}
	for k, v := range ev.FlatMeta() {
		if k == HeaderEventID || k == HeaderEventType {
			continue
		}
		if meta[k] != v {
			return nil, fmt.Errorf("offset %d: header %q = %q, meta has %q", r.Offset, k, meta[k], v)
		}
	}
	if len(meta) > len(ev.Meta) {
		return nil, fmt.Errorf("offset %d: %d meta headers for %d meta entries", r.Offset, len(meta), len(ev.Meta))
	}
	return ev, nil
}
