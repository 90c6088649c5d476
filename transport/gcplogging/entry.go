package gcplogging

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"strings"
	"unicode/utf8"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/jsonx"
)

// Labels every entry carries, and the ones that mark how Meta and Data were
// mapped.
const (
	LabelSessionID = "session_id" // the event's SessionID
	LabelEventID   = "event_id"   // the event's ID (also the entry's insertId)
	LabelType      = "type"       // the event's Type, when not empty
	// LabelMeta holds the whole Meta map as one JSON object when its entries
	// cannot all be labels of their own.
	LabelMeta = "meta"
	// LabelWrapped is "true" when Data is not a JSON object and the payload
	// is {"data": <Data>}.
	LabelWrapped = "eventgate.wrapped"
	// MetaEscape prefixes a Meta key that would collide with the labels
	// above (or that itself starts with "meta.").
	MetaEscape = "meta."
	// WrapKey is the payload key holding Data that is not a JSON object.
	WrapKey = "data"
)

func reservedLabel(k string) bool {
	switch k {
	case LabelSessionID, LabelEventID, LabelType, LabelMeta, LabelWrapped:
		return true
	}
	return strings.HasPrefix(k, MetaEscape)
}

// entry is one event converted to a LogEntry, with its protobuf size.
type entry struct {
	index int
	pb    *loggingpb.LogEntry
	size  int
}

// toEntry converts ev. Data that protobuf's JSON cannot hold (invalid
// UTF-8, duplicate keys) is KindSerialization; an entry over MaxEntryBytes,
// or Meta too large even for one label, is KindRejected.
func (t *Transport) toEntry(ev *eventgate.Event) (entry, error) {
	payload, wrapped, err := toPayload(ev.Data)
	if err != nil {
		return entry{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("gcplogging: event %s: data as a JSON payload: %w", ev.ID, err))
	}
	labels := make(map[string]string, 8)
	labels[LabelSessionID] = validUTF8(ev.SessionID)
	labels[LabelEventID] = validUTF8(ev.ID)
	if ev.Type != "" {
		labels[LabelType] = validUTF8(ev.Type)
	}
	if wrapped {
		labels[LabelWrapped] = "true"
	}
	if len(ev.Meta) > 0 {
		if err := ev.CheckMeta(); err != nil {
			return entry{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
				fmt.Errorf("gcplogging: event %s: %w", ev.ID, err))
		}
		if flat, ok := stringMembers(ev.Meta); ok && metaFitsLabels(flat, MaxLabels-len(labels)) {
			for k, v := range flat {
				labels[metaLabel(k)] = validUTF8(v)
			}
		} else {
			js := ev.Meta
			if len(js) > MaxLabelValueBytes {
				return entry{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
					fmt.Errorf("gcplogging: event %s: meta is %d bytes as JSON; a label holds at most %d", ev.ID, len(js), MaxLabelValueBytes))
			}
			labels[LabelMeta] = string(js)
		}
	}
	pb := &loggingpb.LogEntry{
		InsertId: validUTF8(ev.ID),
		Severity: t.sev.of(ev.Type),
		Labels:   labels,
		Payload:  &loggingpb.LogEntry_JsonPayload{JsonPayload: payload},
	}
	if !ev.Time.IsZero() {
		pb.Timestamp = timestamppb.New(ev.Time)
	}
	size := proto.Size(pb)
	if size > t.cfg.MaxEntryBytes {
		return entry{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("gcplogging: event %s: entry is %d bytes, the limit is %d", ev.ID, size, t.cfg.MaxEntryBytes))
	}
	return entry{pb: pb, size: size}, nil
}

// toPayload turns Data into a Struct: a JSON object as is, any other value
// (null and empty Data included) as {"data": <value>}.
func toPayload(data []byte) (*structpb.Struct, bool, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("null")
	}
	var v structpb.Value
	if err := protojson.Unmarshal(data, &v); err != nil {
		return nil, false, err
	}
	if s := v.GetStructValue(); s != nil {
		return s, false, nil
	}
	return &structpb.Struct{Fields: map[string]*structpb.Value{WrapKey: &v}}, true, nil
}

// stringMembers returns Meta's members (see eventgate.FlattenMeta) when all
// their values are JSON strings, so that labels carry them without losing a
// type; ok is false otherwise, or when a key repeats.
func stringMembers(meta []byte) (m map[string]string, ok bool) {
	ok = true
	n := 0
	jsonx.Members(meta, func(_, v []byte) bool {
		n++
		ok = ok && v[0] == '"'
		return ok
	})
	if !ok {
		return nil, false
	}
	m = make(map[string]string, n)
	_ = eventgate.FlattenMeta(meta, func(k, v string) { m[k] = v })
	return m, len(m) == n
}

// metaFitsLabels reports whether every Meta entry can be a label of its own
// within free slots without Cloud Logging truncating it.
func metaFitsLabels(meta map[string]string, free int) bool {
	if len(meta) > free {
		return false
	}
	for k, v := range meta {
		if len(metaLabel(k)) > MaxLabelKeyBytes || len(v) > MaxLabelValueBytes {
			return false
		}
	}
	return true
}

func metaLabel(k string) string {
	k = validUTF8(k)
	if reservedLabel(k) {
		return MetaEscape + k
	}
	return k
}

// validUTF8 makes s valid UTF-8 for protobuf, replacing each invalid byte
// with U+FFFD as the event's JSON form does.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// EventFromEntry rebuilds an event from a LogEntry written by this
// transport: ID from insertId, SessionID, Type and Meta from the labels,
// Time from the timestamp, Data from the JSON payload (unwrapped when
// LabelWrapped is set). Data comes back as equivalent JSON, not the same
// bytes: Cloud Logging stores a protobuf Struct, whose numbers are doubles
// and whose keys are unordered.
func EventFromEntry(e *loggingpb.LogEntry) (*eventgate.Event, error) {
	labels := maps.Clone(e.GetLabels())
	ev := &eventgate.Event{
		ID:        e.GetInsertId(),
		SessionID: labels[LabelSessionID],
		Type:      labels[LabelType],
	}
	if e.GetTimestamp() != nil {
		ev.Time = e.GetTimestamp().AsTime()
	}
	payload := e.GetJsonPayload()
	var data proto.Message = payload
	if labels[LabelWrapped] == "true" && payload != nil {
		if v, ok := payload.GetFields()[WrapKey]; ok {
			data = v
		}
	}
	if payload != nil {
		b, err := protojson.Marshal(data)
		if err != nil {
			return nil, fmt.Errorf("gcplogging: entry %s: payload: %w", e.GetInsertId(), err)
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return nil, fmt.Errorf("gcplogging: entry %s: payload: %w", e.GetInsertId(), err)
		}
		ev.Data = compact.Bytes()
	}
	if js, ok := labels[LabelMeta]; ok {
		ev.Meta = json.RawMessage(js)
		if err := ev.CheckMeta(); err != nil {
			return nil, fmt.Errorf("gcplogging: entry %s: meta label: %w", e.GetInsertId(), err)
		}
		return ev, nil
	}
	var meta map[string]string
	for k, v := range labels {
		switch k {
		case LabelSessionID, LabelEventID, LabelType, LabelWrapped:
			continue
		}
		if meta == nil {
			meta = map[string]string{}
		}
		meta[strings.TrimPrefix(k, MetaEscape)] = v
	}
	ev.Meta = eventgate.StringMeta(meta)
	return ev, nil
}
