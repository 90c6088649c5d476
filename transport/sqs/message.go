package sqs

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventgate/eventgate"
)

// Names of the message attributes every message carries.
const (
	// Each is left out when its value is empty or has characters SQS
	// refuses; the body always carries the whole event.
	AttrSessionID = "session_id" // the event's SessionID
	AttrEventID   = "event_id"   // the event's ID
	AttrType      = "type"       // the event's Type
	// AttrMeta holds the whole Meta object, as given, when it cannot be
	// carried as individual "meta.<key>" attributes.
	AttrMeta = "meta"
	// MetaAttrPrefix prefixes the attribute of each Meta entry when every
	// entry fits (see the package documentation).
	MetaAttrPrefix = "meta."
)

// maxAttributes is SQS's limit of message attributes per message.
const maxAttributes = 10

// message is one event encoded for SQS.
type message struct {
	body    string
	attrs   map[string]types.MessageAttributeValue
	groupID *string
	dedupID *string
	size    int // as SQS counts it: body plus attribute names, types, values
}

// buildMessage encodes ev. Errors are *eventgate.TransportError: invalid
// Data is KindSerialization; a message SQS could never accept (too large,
// characters outside SQS's allowed set) is KindRejected.
func (t *Transport) buildMessage(ev *eventgate.Event, buf *[]byte) (message, error) {
	if len(ev.Data) > 0 && !json.Valid(ev.Data) {
		return message{}, eventgate.NewError(t.cfg.Name, eventgate.KindSerialization,
			fmt.Errorf("sqs: event %s: data is not valid JSON", ev.ID))
	}
	*buf = eventgate.AppendJSON((*buf)[:0], ev)
	if !validSQSText(*buf) {
		return message{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("sqs: event %s: body has characters SQS does not accept (allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF)", ev.ID))
	}
	m := message{body: string(*buf), attrs: make(map[string]types.MessageAttributeValue, 4)}
	m.size = len(m.body)
	add := func(name, value string) {
		if value == "" || !validSQSText([]byte(value)) {
			return // SQS refuses empty values and characters outside its set; the body has it
		}
		m.attrs[name] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(value)}
		m.size += len(name) + len("String") + len(value)
	}
	add(AttrSessionID, ev.SessionID)
	add(AttrEventID, ev.ID)
	add(AttrType, ev.Type)
	if len(ev.Meta) > 0 {
		if flat := ev.FlatMeta(); flat != nil && metaFitsAttributes(flat, maxAttributes-len(m.attrs)) {
			for k, v := range flat {
				add(MetaAttrPrefix+k, v)
			}
		} else {
			add(AttrMeta, string(ev.Meta))
		}
	}
	if m.size > t.cfg.MaxMessageBytes {
		return message{}, eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("sqs: event %s: message is %d bytes, the limit is %d", ev.ID, m.size, t.cfg.MaxMessageBytes))
	}
	if t.fifo {
		group := ev.SessionID
		if group == "" {
			group = "unknown"
		}
		m.groupID = aws.String(fifoID(group))
		if ev.ID != "" {
			m.dedupID = aws.String(fifoID(ev.ID))
		} else {
			sum := sha256.Sum256(*buf)
			m.dedupID = aws.String(hex.EncodeToString(sum[:]))
		}
	}
	return m, nil
}

// metaFitsAttributes reports whether every flattened Meta member (see
// eventgate.FlattenMeta) can be its own
// "meta.<key>" attribute within the free attribute slots: a valid attribute
// name and a non-empty value of allowed characters.
func metaFitsAttributes(meta map[string]string, free int) bool {
	if len(meta) > free {
		return false
	}
	for k, v := range meta {
		if v == "" || !validSQSText([]byte(v)) || !validAttributeName(MetaAttrPrefix+k) {
			return false
		}
	}
	return true
}

// validAttributeName checks SQS's rule for message attribute names: up to
// 256 characters of A-Z a-z 0-9 _ - ., no leading, trailing or doubled
// period, no "AWS." or "Amazon." prefix.
func validAttributeName(name string) bool {
	if name == "" || len(name) > 256 || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..") {
		return false
	}
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// validSQSText reports whether b is UTF-8 made only of the characters SQS
// allows in a message: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
func validSQSText(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return false
		}
		if (r >= 0xD800 && r <= 0xDFFF) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += size
	}
	return true
}

// fifoIDPrefix marks a FIFO id that is a hash of the original value.
const fifoIDPrefix = "sha256-"

// fifoID returns s when it is a valid MessageGroupId/MessageDeduplicationId
// (1 to 128 characters of letters, digits and ASCII punctuation), and
// otherwise "sha256-" followed by the hex SHA-256 of s (71 characters), so
// every session id and event id maps to a stable, valid id.
func fifoID(s string) string {
	if s != "" && len(s) <= 128 && !slices.ContainsFunc([]byte(s), func(c byte) bool { return c < 0x21 || c > 0x7e }) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return fifoIDPrefix + hex.EncodeToString(sum[:])
}

var errNotAttempted = errors.New("sqs: not sent: an earlier entry of the batch failed and later ones are held back to keep per-session order")

var errMissingEntry = errors.New("sqs: batch answer named the entry neither successful nor failed")
