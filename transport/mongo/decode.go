package mongo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/x/bsonx/bsoncore"

	"github.com/eventgate/eventgate"
)

// Decode returns the event a stored document holds: the inverse of Encode,
// for programs that read the collection back. Data comes back as JSON
// equivalent to what was sent (same values, keys in the same order, numbers
// and whitespace possibly written differently), Time in UTC to the
// millisecond, and escaped keys unescaped.
//
// Values of BSON types Encode never writes (dates, object ids, decimals,
// binary…, written by other programs) are rendered as MongoDB relaxed
// extended JSON.
func Decode(doc bson.Raw) (*eventgate.Event, error) {
	if err := bsoncore.Document(doc).Validate(); err != nil {
		return nil, fmt.Errorf("mongo: decode: %w", err)
	}
	ev := &eventgate.Event{}
	elems, err := bsoncore.Document(doc).Elements()
	if err != nil {
		return nil, fmt.Errorf("mongo: decode: %w", err)
	}
	for _, el := range elems {
		v := el.Value()
		switch el.Key() {
		case FieldID:
			ev.ID, err = stringValue(FieldID, v)
		case FieldSessionID:
			ev.SessionID, err = stringValue(FieldSessionID, v)
		case FieldType:
			ev.Type, err = stringValue(FieldType, v)
		case FieldTime:
			ms, ok := v.DateTimeOK()
			if !ok {
				err = fmt.Errorf("mongo: decode: %s is a %s, not a date", FieldTime, v.Type)
			}
			ev.Time = time.UnixMilli(ms).UTC()
		case FieldData:
			ev.Data, err = appendJSONValue(nil, v)
		case FieldMeta:
			ev.Meta, err = decodeMeta(v)
		}
		if err != nil {
			return nil, err
		}
	}
	if ev.Data == nil {
		ev.Data = []byte("null")
	}
	return ev, nil
}

func stringValue(field string, v bsoncore.Value) (string, error) {
	s, ok := v.StringValueOK()
	if !ok {
		return "", fmt.Errorf("mongo: decode: %s is a %s, not a string", field, v.Type)
	}
	return s, nil
}

// decodeMeta returns the meta document as a JSON object, or nil when it has
// no fields.
func decodeMeta(v bsoncore.Value) (json.RawMessage, error) {
	doc, ok := v.DocumentOK()
	if !ok {
		return nil, fmt.Errorf("mongo: decode: %s is a %s, not a document", FieldMeta, v.Type)
	}
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("mongo: decode: %s: %w", FieldMeta, err)
	}
	if len(elems) == 0 {
		return nil, nil
	}
	return appendJSONValue(nil, v)
}

// appendJSONValue appends v as JSON.
func appendJSONValue(dst []byte, v bsoncore.Value) ([]byte, error) {
	switch v.Type {
	case bsoncore.TypeNull, bsoncore.TypeUndefined:
		return append(dst, "null"...), nil
	case bsoncore.TypeBoolean:
		return strconv.AppendBool(dst, v.Boolean()), nil
	case bsoncore.TypeInt32:
		return strconv.AppendInt(dst, int64(v.Int32()), 10), nil
	case bsoncore.TypeInt64:
		return strconv.AppendInt(dst, v.Int64(), 10), nil
	case bsoncore.TypeDouble:
		f := v.Double()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("mongo: decode: %v has no JSON form", f)
		}
		return strconv.AppendFloat(dst, f, 'g', -1, 64), nil
	case bsoncore.TypeString:
		return eventgate.AppendJSONString(dst, v.StringValue()), nil
	case bsoncore.TypeEmbeddedDocument:
		return appendJSONMembers(dst, v.Document(), true)
	case bsoncore.TypeArray:
		return appendJSONMembers(dst, bsoncore.Document(v.Array()), false)
	}
	return appendExtJSON(dst, v)
}

func appendJSONMembers(dst []byte, doc bsoncore.Document, object bool) ([]byte, error) {
	elems, err := doc.Elements()
	if err != nil {
		return nil, fmt.Errorf("mongo: decode: %w", err)
	}
	open, close := byte('['), byte(']')
	if object {
		open, close = '{', '}'
	}
	dst = append(dst, open)
	for i, el := range elems {
		if i > 0 {
			dst = append(dst, ',')
		}
		if object {
			dst = eventgate.AppendJSONString(dst, UnescapeKey(el.Key()))
			dst = append(dst, ':')
		}
		if dst, err = appendJSONValue(dst, el.Value()); err != nil {
			return nil, err
		}
	}
	return append(dst, close), nil
}

// appendExtJSON renders a value of a type JSON lacks as relaxed extended
// JSON ({"$date": …}, {"$oid": …}, …).
func appendExtJSON(dst []byte, v bsoncore.Value) ([]byte, error) {
	wrapped := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "v", v))
	b, err := bson.MarshalExtJSON(bson.Raw(wrapped), false, false)
	if err != nil {
		return nil, fmt.Errorf("mongo: decode: %s value: %w", v.Type, err)
	}
	// b is {"v":<value>}: cut the wrapper.
	const prefix = `{"v":`
	if len(b) < len(prefix)+1 || string(b[:len(prefix)]) != prefix {
		return nil, errors.New("mongo: decode: unexpected extended JSON form")
	}
	return append(dst, b[len(prefix):len(b)-1]...), nil
}
