// Package record is the binary form of an event inside the journal.
//
// Layout (version 1), all integers little endian or unsigned varints:
//
//	version  byte (1)
//	time     int64, Unix nanoseconds
//	id       uvarint length + bytes
//	session  uvarint length + bytes
//	type     uvarint length + bytes
//	data     uvarint length + bytes
//	meta     uvarint count, then count × (uvarint length + key, uvarint length + value)
//
// Decode never panics and never reads past its input, whatever the bytes.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the layout version written by Append.
const Version = 1

// ErrCorrupt is matched by every error Decode returns.
var ErrCorrupt = errors.New("record: corrupt")

// Fields are the parts of an event, as Append takes them.
type Fields struct {
	TimeNanos int64
	ID        string
	Session   string
	Type      string
	Data      []byte
	Meta      map[string]string
}

// Size returns an upper bound of the bytes Append adds for f.
func (f *Fields) Size() int {
	n := 1 + 8 + 5*4 + len(f.ID) + len(f.Session) + len(f.Type) + len(f.Data) + 5
	for k, v := range f.Meta {
		n += 10 + len(k) + len(v)
	}
	return n
}

// Append appends f's encoding to dst.
func Append(dst []byte, f *Fields) []byte {
	dst = append(dst, Version)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.TimeNanos))
	dst = appendString(dst, f.ID)
	dst = appendString(dst, f.Session)
	dst = appendString(dst, f.Type)
	dst = binary.AppendUvarint(dst, uint64(len(f.Data)))
	dst = append(dst, f.Data...)
	dst = binary.AppendUvarint(dst, uint64(len(f.Meta)))
	for k, v := range f.Meta {
		dst = appendString(dst, k)
		dst = appendString(dst, v)
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// View is a decoded record whose byte slices point into the decoded buffer:
// they are valid only as long as that buffer is not reused.
type View struct {
	TimeNanos int64
	ID        []byte
	Session   []byte
	Type      []byte
	Data      []byte
	MetaCount int
	metaRaw   []byte
}

// Decode parses b. It returns an error matching ErrCorrupt when b is not a
// complete, well-formed record.
func Decode(b []byte) (View, error) {
	var v View
	if len(b) < 9 {
		return v, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(b))
	}
	if b[0] != Version {
		return v, fmt.Errorf("%w: unknown version %d", ErrCorrupt, b[0])
	}
	v.TimeNanos = int64(binary.LittleEndian.Uint64(b[1:9]))
	rest := b[9:]
	var err error
	if v.ID, rest, err = field(rest, "id"); err != nil {
		return v, err
	}
	if v.Session, rest, err = field(rest, "session"); err != nil {
		return v, err
	}
	if v.Type, rest, err = field(rest, "type"); err != nil {
		return v, err
	}
	if v.Data, rest, err = field(rest, "data"); err != nil {
		return v, err
	}
	count, n := binary.Uvarint(rest)
	if n <= 0 {
		return v, fmt.Errorf("%w: meta count", ErrCorrupt)
	}
	rest = rest[n:]
	// Each pair needs at least two bytes, which bounds count by the input.
	if count > uint64(len(rest))/2 {
		return v, fmt.Errorf("%w: meta count %d exceeds the record", ErrCorrupt, count)
	}
	v.MetaCount = int(count)
	v.metaRaw = rest
	for i := 0; i < v.MetaCount; i++ {
		if _, rest, err = field(rest, "meta key"); err != nil {
			return v, err
		}
		if _, rest, err = field(rest, "meta value"); err != nil {
			return v, err
		}
	}
	if len(rest) != 0 {
		return v, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	v.metaRaw = v.metaRaw[:len(v.metaRaw)-len(rest)]
	return v, nil
}

func field(b []byte, name string) (val, rest []byte, err error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, nil, fmt.Errorf("%w: %s length", ErrCorrupt, name)
	}
	b = b[n:]
	if l > uint64(len(b)) {
		return nil, nil, fmt.Errorf("%w: %s length %d exceeds the record", ErrCorrupt, name, l)
	}
	return b[:l:l], b[l:], nil
}

// EachMeta calls fn for every metadata pair, in encoded order. It must only
// be called on a View returned by Decode without error.
func (v *View) EachMeta(fn func(k, val []byte)) {
	rest := v.metaRaw
	for i := 0; i < v.MetaCount; i++ {
		var k, val []byte
		k, rest, _ = field(rest, "")
		val, rest, _ = field(rest, "")
		fn(k, val)
	}
}

// Meta returns the metadata as a new map, or nil when there is none.
func (v *View) Meta() map[string]string {
	if v.MetaCount == 0 {
		return nil
	}
	m := make(map[string]string, v.MetaCount)
	v.EachMeta(func(k, val []byte) { m[string(k)] = string(val) })
	return m
}
