package eventgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// errInvalidMeta is what CheckMeta returns for metadata that is not an object.
var errInvalidMeta = errors.New("meta is not a JSON object")

// NewMeta returns m encoded as a JSON object for Event.Meta, its keys in
// sorted order (as encoding/json writes maps), or nil when m is empty. Values
// keep their JSON types: a float64 stays a number, a []string an array.
func NewMeta(m map[string]any) (json.RawMessage, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("eventgate: encode meta: %w", err)
	}
	return b, nil
}

// StringMeta returns m as a JSON object of strings for Event.Meta, keys in
// sorted order so equal maps give equal bytes, or nil when m is empty.
// Invalid UTF-8 is replaced by U+FFFD.
func StringMeta(m map[string]string) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst := append(make([]byte, 0, 2+16*len(m)), '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		dst = AppendJSONString(dst, m[k])
	}
	return append(dst, '}')
}

// CheckMeta returns nil when Meta is empty or one well-formed JSON object of
// valid UTF-8, and an error saying what is wrong otherwise. A Gateway checks
// every event's Meta before recording it, so transports may rely on it.
func (e *Event) CheckMeta() error { return checkMeta(e.Meta) }

func checkMeta(m []byte) error {
	if len(m) == 0 {
		return nil
	}
	if !jsonx.Members(m, func(_, _ []byte) bool { return true }) {
		return errInvalidMeta
	}
	if !utf8.Valid(m) {
		return errors.New("meta is not valid UTF-8")
	}
	return nil
}

// MetaString returns the value of Meta's top-level member key when that value
// is a JSON string, and whether it is one. When the key appears more than
// once, the last one counts, as encoding/json does. Malformed Meta holds no
// members.
func (e *Event) MetaString(key string) (string, bool) {
	var val string
	found := false
	jsonx.Members(e.Meta, func(k, v []byte) bool {
		if !keyIs(k, key) {
			return true
		}
		s, ok := unquote(v)
		val, found = s, ok
		return true
	})
	return val, found
}

// keyIs reports whether the raw JSON string k (quotes included) denotes key.
func keyIs(k []byte, key string) bool {
	if bytes.IndexByte(k, '\\') < 0 {
		return len(k) == len(key)+2 && string(k[1:len(k)-1]) == key
	}
	s, ok := unquote(k)
	return ok && s == key
}

// unquote decodes the raw JSON value v when it is a string.
func unquote(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' {
		return "", false
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), true
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// FlattenMeta is the one rule by which transports whose headers or
// attributes hold only strings (Kafka, AMQP, NATS, MQTT, SQS, Cloud Logging
// labels) carry Event.Meta. It calls fn for each top-level member of the JSON
// object meta, in the order given, with:
//
//   - the key, decoded from its JSON string;
//   - a string value decoded, as is ("support" gives support);
//   - any other value as its compact JSON text (0.2 gives 0.2, true gives
//     true, null gives null, ["a", "b"] gives ["a","b"], an object gives
//     its compact text: nested keys are not flattened).
//
// A key that appears twice is passed twice. A consumer that needs the types
// back reads the transport's JSON form of the event (the body or payload)
// instead. FlattenMeta returns an error, after calling fn for no member, when
// meta is not empty and not a JSON object.
func FlattenMeta(meta []byte, fn func(key, value string)) error {
	if len(meta) == 0 {
		return nil
	}
	if err := checkMeta(meta); err != nil {
		return fmt.Errorf("eventgate: %w", err)
	}
	var buf bytes.Buffer
	jsonx.Members(meta, func(k, v []byte) bool {
		key, _ := unquote(k)
		if s, ok := unquote(v); ok {
			fn(key, s)
			return true
		}
		if v[0] == '{' || v[0] == '[' {
			buf.Reset()
			if json.Compact(&buf, v) == nil {
				fn(key, buf.String())
				return true
			}
		}
		fn(key, string(v))
		return true
	})
	return nil
}

// FlatMeta returns Meta flattened by FlattenMeta's rule as a map (the last
// of repeated keys wins), or nil when Meta holds no members or is malformed.
func (e *Event) FlatMeta() map[string]string {
	var m map[string]string
	_ = FlattenMeta(e.Meta, func(k, v string) {
		if m == nil {
			m = make(map[string]string)
		}
		m[k] = v
	})
	return m
}
