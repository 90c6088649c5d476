package redisstream

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/eventgate/eventgate"

	"github.com/eventgate/eventgate/internal/timefmt"
)

// The fields of every stream entry, in the order they are written. The first
// five are the original RedisStreamTransport's; id and time let a consumer
// rebuild the event exactly (see DecodeMessage).
const (
	FieldEventType = "event_type" // Event.Type
	FieldSessionID = "session_id" // Event.SessionID
	FieldEventData = "event_data" // Event.Data, byte for byte ("null" when empty)
	FieldMetadata  = "metadata"   // Event.Meta, its JSON object byte for byte ("{}" when empty)
	FieldTimestamp = "timestamp"  // Event.Time as Unix seconds with microseconds, e.g. "1718040000.123456"
	FieldID        = "id"         // Event.ID
	FieldTime      = "time"       // Event.Time, RFC 3339 with nanoseconds, UTC
)

var errNilEvent = errors.New("nil event")

// The strings of one entry, in the order strs holds them.
const (
	sStream = iota
	sType
	sSession
	sData
	sMeta
	sTimestamp
	sID
	sTime
	stringsPerEntry
)

// encode builds the XADD command of each event: cmds[i] are the arguments
// of evs[i]'s command and streams[i] its stream. All the strings of the batch
// live in one buffer and one []string, and the commands refer to them
// through pointers (which go-redis writes as their strings), so the batch
// costs a handful of allocations whatever its size. It fails, naming the
// event, when one cannot be encoded.
func (t *Transport) encode(evs []*eventgate.Event) (cmds [][]any, streams []string, err error) {
	size := 0
	for i, ev := range evs {
		if ev == nil {
			return nil, nil, fmt.Errorf("event %d: %w", i, errNilEvent)
		}
		if err := ev.CheckData(); err != nil {
			return nil, nil, fmt.Errorf("event %d (%s): %w", i, ev.ID, err)
		}
		if err := ev.CheckMeta(); err != nil {
			return nil, nil, fmt.Errorf("event %d (%s): %w", i, ev.ID, err)
		}
		size += len(ev.Data) + 96 + len(ev.Meta)
	}
	// One buffer holds every entry's encoded fields, back to back.
	buf := make([]byte, 0, size)
	ends := make([]int, 0, 4*len(evs))
	for _, ev := range evs {
		if len(ev.Data) == 0 {
			buf = append(buf, "null"...)
		} else {
			buf = append(buf, ev.Data...)
		}
		ends = append(ends, len(buf))
		if len(ev.Meta) > 0 {
			buf = append(buf, ev.Meta...)
		} else {
			buf = append(buf, "{}"...)
		}
		ends = append(ends, len(buf))
		buf = appendTimestamp(buf, ev.Time)
		ends = append(ends, len(buf))
		buf = timefmt.AppendTime(buf, ev.Time)
		ends = append(ends, len(buf))
	}
	all := string(buf)
	// strs is filled completely before any pointer into it is taken.
	strs := make([]string, len(evs)*stringsPerEntry)
	streams = make([]string, len(evs))
	from := 0
	for i, ev := range evs {
		e := strs[i*stringsPerEntry : (i+1)*stringsPerEntry]
		e[sStream] = t.cfg.StreamFor(ev.SessionID)
		streams[i] = e[sStream]
		e[sType], e[sSession], e[sID] = ev.Type, ev.SessionID, ev.ID
		for k, dst := range [...]int{sData, sMeta, sTimestamp, sTime} {
			to := ends[4*i+k]
			e[dst] = all[from:to]
			from = to
		}
	}
	trim := t.trimArgs()
	per := 3 + len(trim) + 2*7
	args := make([]any, 0, len(evs)*per)
	cmds = make([][]any, len(evs))
	var stream any // the key stays a string, as key-aware clients expect
	for i := range evs {
		e := strs[i*stringsPerEntry : (i+1)*stringsPerEntry]
		if stream == nil || streams[i] != streams[max(i-1, 0)] {
			stream = e[sStream]
		}
		start := len(args)
		args = append(args, "xadd", stream)
		args = append(args, trim...)
		args = append(args, "*",
			FieldEventType, &e[sType],
			FieldSessionID, &e[sSession],
			FieldEventData, &e[sData],
			FieldMetadata, &e[sMeta],
			FieldTimestamp, &e[sTimestamp],
			FieldID, &e[sID],
			FieldTime, &e[sTime],
		)
		cmds[i] = args[start:len(args):len(args)]
	}
	return cmds, streams, nil
}

// trimArgs returns the MAXLEN clause of every XADD, or nothing under NoTrim.
func (t *Transport) trimArgs() []any {
	if t.cfg.MaxLen <= 0 {
		return nil
	}
	op := "~"
	if t.cfg.ExactTrim {
		op = "="
	}
	return []any{"maxlen", op, strconv.FormatInt(t.cfg.MaxLen, 10)}
}

// FormatTimestamp writes t as Unix seconds with six decimals (microseconds,
// truncated), the form of the seed's str(time.time()) that consumers of the
// "timestamp" field already parse as a float.
func FormatTimestamp(t time.Time) string { return string(appendTimestamp(nil, t)) }

func appendTimestamp(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 {
		return strconv.AppendFloat(dst, float64(t.UnixMicro())/1e6, 'f', 6, 64)
	}
	dst = strconv.AppendInt(dst, sec, 10)
	dst = append(dst, '.')
	micro := t.Nanosecond() / 1000
	for d := 100000; d > 0; d /= 10 {
		dst = append(dst, byte('0'+micro/d%10))
	}
	return dst
}
