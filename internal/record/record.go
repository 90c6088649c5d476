// Package record is the binary form of an event inside the journal.
//
// Layout (version 2, written by Append), all integers little endian or
// unsigned varints:
//
//	version  byte (2)
//	time     int64, Unix nanoseconds
//	id       uvarint length + bytes
//	session  uvarint length + bytes
//	type     uvarint length + bytes
//	data     uvarint length + bytes
//	meta     uvarint length + bytes: the metadata's JSON object, byte for byte (length 0: none)
//
// Version 1 differs only in its last field, which holds string metadata as
// uvarint count, then count × (uvarint length + key, uvarint length + value).
// Decode reads both, so journals written before version 2 stay readable; a
// version 1 record's metadata is presented as a JSON object of strings.
//
// Decode never panics and never reads past its input, whatever the bytes.
package record

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"
)

// Version is the layout version written by Append.
const Version = 2

// Version1 is the earlier layout with string-only metadata, still decoded.
const Version1 = 1

// ErrCorrupt is matched by every error Decode returns.
var ErrCorrupt = errors.New("record: corrupt")

// Fields are the parts of an event, as Append takes them.
type Fields struct {
	TimeNanos int64
	ID        string
	Session   string
	Type      string
	Data      []byte
	// Meta is the metadata's JSON object, stored byte for byte; empty for none.
	// Append does not validate it.
	Meta []byte
}

// Size returns an upper bound of the bytes Append adds for f.
func (f *Fields) Size() int {
	return 1 + 8 + 5*5 + len(f.ID) + len(f.Session) + len(f.Type) + len(f.Data) + len(f.Meta)
}

// Append appends f's encoding (version 2) to dst.
func Append(dst []byte, f *Fields) []byte {
	dst = append(dst, Version)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.TimeNanos))
	dst = appendString(dst, f.ID)
	dst = appendString(dst, f.Session)
	dst = appendString(dst, f.Type)
	dst = appendBytes(dst, f.Data)
	return appendBytes(dst, f.Meta)
}

// AppendV1 appends f's encoding in the version 1 layout, with meta given as
// string pairs. It exists so that the decoding of journals written by earlier
// releases stays tested.
func AppendV1(dst []byte, f *Fields, meta [][2]string) []byte {
	dst = append(dst, Version1)
	dst = binary.LittleEndian.AppendUint64(dst, uint64(f.TimeNanos))
	dst = appendString(dst, f.ID)
	dst = appendString(dst, f.Session)
	dst = appendString(dst, f.Type)
	dst = appendBytes(dst, f.Data)
	dst = binary.AppendUvarint(dst, uint64(len(meta)))
	for _, kv := range meta {
		dst = appendString(dst, kv[0])
		dst = appendString(dst, kv[1])
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendBytes(dst []byte, b []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(b)))
	return append(dst, b...)
}

// View is a decoded record whose byte slices point into the decoded buffer:
// they are valid only as long as that buffer is not reused. (For a version 1
// record with metadata, Meta is a new slice.)
type View struct {
	TimeNanos int64
	ID        []byte
	Session   []byte
	Type      []byte
	Data      []byte
	// Meta is the metadata's JSON object as stored, or empty when there is none.
	Meta []byte
}

// Decode parses b. It returns an error matching ErrCorrupt when b is not a
// complete, well-formed record of a known version.
func Decode(b []byte) (View, error) {
	var v View
	if len(b) < 9 {
		return v, fmt.Errorf("%w: %d bytes is too short", ErrCorrupt, len(b))
	}
	if b[0] != Version && b[0] != Version1 {
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
	if b[0] == Version1 {
		if v.Meta, rest, err = metaV1(rest); err != nil {
			return v, err
		}
	} else if v.Meta, rest, err = field(rest, "meta"); err != nil {
		return v, err
	}
	if len(rest) != 0 {
		return v, fmt.Errorf("%w: %d trailing bytes", ErrCorrupt, len(rest))
	}
	if len(v.Meta) == 0 {
		v.Meta = nil
	}
	return v, nil
}

// metaV1 reads version 1 metadata pairs and returns them as a JSON object.
func metaV1(b []byte) (meta, rest []byte, err error) {
	count, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, nil, fmt.Errorf("%w: meta count", ErrCorrupt)
	}
	rest = b[n:]
	// Each pair needs at least two bytes, which bounds count by the input.
	if count > uint64(len(rest))/2 {
		return nil, nil, fmt.Errorf("%w: meta count %d exceeds the record", ErrCorrupt, count)
	}
	if count == 0 {
		return nil, rest, nil
	}
	meta = append(make([]byte, 0, len(rest)+4*int(count)+2), '{')
	for i := uint64(0); i < count; i++ {
		var k, val []byte
		if k, rest, err = field(rest, "meta key"); err != nil {
			return nil, nil, err
		}
		if val, rest, err = field(rest, "meta value"); err != nil {
			return nil, nil, err
		}
		if i > 0 {
			meta = append(meta, ',')
		}
		meta = appendJSONString(meta, k)
		meta = append(meta, ':')
		meta = appendJSONString(meta, val)
	}
	return append(meta, '}'), rest, nil
}

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst, s []byte) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	for len(s) > 0 {
		c := s[0]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				dst = append(dst, '\\', c)
			case c < 0x20:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				dst = append(dst, c)
			}
			s = s[1:]
			continue
		}
		r, size := utf8.DecodeRune(s)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, `\ufffd`...)
		} else {
			dst = append(dst, s[:size]...)
		}
		s = s[size:]
	}
	return append(dst, '"')
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
