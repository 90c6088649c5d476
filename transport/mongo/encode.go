package mongo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/eventgate/eventgate"
)

// Field names of the stored document.
const (
	FieldID        = "_id"
	FieldSessionID = "session_id"
	FieldType      = "type"
	FieldTime      = "time"
	FieldData      = "data"
	FieldMeta      = "meta"
)

// errData marks a Data value that cannot be stored: not JSON, or a number
// beyond the range of a BSON double.
var errData = errors.New("data cannot be stored")

// Encode returns the document the transport stores for ev (see the package
// documentation for its layout). It fails, with an error wrapping the
// reason, when ev.Data is not valid JSON or holds a number no BSON type can
// hold.
func Encode(ev *eventgate.Event) (bson.Raw, error) {
	return appendDocument(nil, ev)
}

func appendDocument(dst []byte, ev *eventgate.Event) (bson.Raw, error) {
	start := len(dst)
	idx, dst := bsoncore.AppendDocumentStart(dst)
	dst = bsoncore.AppendStringElement(dst, FieldID, validUTF8(ev.ID))
	dst = bsoncore.AppendStringElement(dst, FieldSessionID, validUTF8(ev.SessionID))
	dst = bsoncore.AppendStringElement(dst, FieldType, validUTF8(ev.Type))
	dst = bsoncore.AppendDateTimeElement(dst, FieldTime, ev.Time.UnixMilli())
	v, err := parseData(ev.Data)
	if err != nil {
		return nil, err
	}
	dst = appendValueElement(dst, FieldData, v)
	if len(ev.Meta) > 0 {
		// An embedded document, converted as Data is: values keep their types.
		if err := ev.CheckMeta(); err != nil {
			return nil, fmt.Errorf("%w: %w", errData, err)
		}
		m, err := parseData(ev.Meta)
		if err != nil {
			return nil, err
		}
		dst = appendValueElement(dst, FieldMeta, m)
	}
	dst, err = bsoncore.AppendDocumentEnd(dst, idx)
	if err != nil {
		return nil, err
	}
	return bson.Raw(dst[start:]), nil
}

// validUTF8 replaces invalid UTF-8 with U+FFFD, as the event's JSON form
// does; BSON strings must be UTF-8.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// jsonValue is one parsed JSON value, kept with the order of object members
// so that the stored document lists keys as the producer wrote them.
type jsonValue struct {
	kind    byte // one of the bsoncore type bytes written for it
	str     string
	i64     int64
	f64     float64
	boolean bool
	members []jsonMember // objects
	items   []jsonValue  // arrays
}

type jsonMember struct {
	key   string
	value jsonValue
}

const (
	kindNull   = byte(bson.TypeNull)
	kindBool   = byte(bson.TypeBoolean)
	kindInt32  = byte(bson.TypeInt32)
	kindInt64  = byte(bson.TypeInt64)
	kindDouble = byte(bson.TypeDouble)
	kindString = byte(bson.TypeString)
	kindObject = byte(bson.TypeEmbeddedDocument)
	kindArray  = byte(bson.TypeArray)
)

// parseData parses Data (empty Data is JSON null) into a jsonValue.
func parseData(data []byte) (jsonValue, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return jsonValue{kind: kindNull}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return v, fmt.Errorf("%w: %w", errData, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return v, fmt.Errorf("%w: not valid JSON: data after the first value", errData)
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (jsonValue, error) {
	tok, err := dec.Token()
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return jsonValue{}, fmt.Errorf("not valid JSON: %w", err)
	}
	switch t := tok.(type) {
	case nil:
		return jsonValue{kind: kindNull}, nil
	case bool:
		return jsonValue{kind: kindBool, boolean: t}, nil
	case string:
		return jsonValue{kind: kindString, str: t}, nil
	case json.Number:
		return parseNumber(string(t))
	case json.Delim:
		switch t {
		case '{':
			return parseObject(dec)
		case '[':
			return parseArray(dec)
		}
	}
	return jsonValue{}, fmt.Errorf("not valid JSON: unexpected %v", tok)
}

// parseNumber maps a JSON number to the narrowest BSON type that holds it
// exactly: int32, then int64 for integers, else a double. Integers beyond
// int64 become the nearest double; a number beyond the double range fails.
func parseNumber(s string) (jsonValue, error) {
	if !strings.ContainsAny(s, ".eE") {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return jsonValue{kind: kindInt32, i64: n}, nil
			}
			return jsonValue{kind: kindInt64, i64: n}, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && (math.IsInf(f, 0) || !errors.Is(err, strconv.ErrRange)) {
		return jsonValue{}, fmt.Errorf("number %s is out of the range of a BSON double", s)
	}
	return jsonValue{kind: kindDouble, f64: f}, nil
}

func parseObject(dec *json.Decoder) (jsonValue, error) {
	v := jsonValue{kind: kindObject}
	var index map[string]int // built only for objects with many members
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return v, fmt.Errorf("not valid JSON: %w", err)
		}
		key, ok := tok.(string)
		if !ok {
			return v, fmt.Errorf("not valid JSON: object key %v", tok)
		}
		val, err := parseValue(dec)
		if err != nil {
			return v, err
		}
		// A repeated key keeps its first position and takes the last value,
		// as JavaScript's JSON.parse does; BSON servers refuse duplicates.
		if i, dup := findMember(v.members, index, key); dup {
			v.members[i].value = val
			continue
		}
		v.members = append(v.members, jsonMember{key: key, value: val})
		if index != nil {
			index[key] = len(v.members) - 1
		} else if len(v.members) == 16 {
			index = make(map[string]int, 32)
			for i, m := range v.members {
				index[m.key] = i
			}
		}
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return v, fmt.Errorf("not valid JSON: %w", err)
	}
	return v, nil
}

func findMember(members []jsonMember, index map[string]int, key string) (int, bool) {
	if index != nil {
		i, ok := index[key]
		return i, ok
	}
	for i := range members {
		if members[i].key == key {
			return i, true
		}
	}
	return 0, false
}

func parseArray(dec *json.Decoder) (jsonValue, error) {
	v := jsonValue{kind: kindArray}
	for dec.More() {
		item, err := parseValue(dec)
		if err != nil {
			return v, err
		}
		v.items = append(v.items, item)
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return v, fmt.Errorf("not valid JSON: %w", err)
	}
	return v, nil
}

// appendValueElement appends v as the element key of a BSON document.
func appendValueElement(dst []byte, key string, v jsonValue) []byte {
	switch v.kind {
	case kindNull:
		return bsoncore.AppendNullElement(dst, key)
	case kindBool:
		return bsoncore.AppendBooleanElement(dst, key, v.boolean)
	case kindInt32:
		return bsoncore.AppendInt32Element(dst, key, int32(v.i64))
	case kindInt64:
		return bsoncore.AppendInt64Element(dst, key, v.i64)
	case kindDouble:
		return bsoncore.AppendDoubleElement(dst, key, v.f64)
	case kindString:
		return bsoncore.AppendStringElement(dst, key, v.str)
	case kindObject:
		idx, dst := bsoncore.AppendDocumentElementStart(dst, key)
		for _, m := range v.members {
			dst = appendValueElement(dst, EscapeKey(m.key), m.value)
		}
		dst, _ = bsoncore.AppendDocumentEnd(dst, idx)
		return dst
	case kindArray:
		idx, dst := bsoncore.AppendArrayElementStart(dst, key)
		var num [20]byte
		for i, item := range v.items {
			dst = appendValueElement(dst, string(strconv.AppendInt(num[:0], int64(i), 10)), item)
		}
		dst, _ = bsoncore.AppendArrayEnd(dst, idx)
		return dst
	}
	panic("mongo: unknown JSON value kind")
}
