package eventgate

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"
	"unsafe"

	"github.com/eventgate/eventgate/internal/jsonx"
)

// Event is one thing that happened in a session. It is the unit that Log records
// and that every Transport delivers.
//
// Data is kept byte for byte: what the producer gave is what the session file
// holds and what every transport sends. Events are treated as immutable once
// passed to Gateway.Log; transports must not modify an Event they are given.
type Event struct {
	// ID is a stable unique id. Log assigns a time-ordered UUIDv7 when it is
	// empty. Sinks use it to de-duplicate the re-deliveries that
	// at-least-once delivery allows.
	ID string `json:"id"`
	// SessionID names the session the event belongs to. When empty, Log takes
	// it from Data's "user_session_id", then "session_id", then the Gateway's
	// fallback session (default "unknown").
	SessionID string `json:"session_id"`
	// Type is the event's kind. When empty, Log takes it from Data's "type".
	Type string `json:"type,omitempty"`
	// Time is when the event happened. Log assigns the current time when zero.
	Time time.Time `json:"time"`
	// Data is the event body, a JSON value, kept byte for byte. Empty Data is
	// recorded as JSON null.
	Data json.RawMessage `json:"data"`
	// Meta holds the producer's metadata (the seed's `metadata` argument):
	// empty, or one JSON object kept byte for byte, its values keeping their
	// JSON types. NewMeta and StringMeta build one from a Go map; MetaString
	// reads one string member. Transports that carry JSON carry it as given;
	// those with string-only headers flatten it by FlattenMeta's rule.
	Meta json.RawMessage `json:"meta,omitempty"`

	// checked is the Data slice a Gateway validated before handing the
	// event to a transport; see CheckData.
	checked []byte
}

// errInvalidData is what CheckData returns for data that is not JSON.
var errInvalidData = errors.New("data is not valid JSON")

// CheckData returns nil when Data is empty or exactly one valid JSON value,
// and an error otherwise. Transports call it instead of validating Data
// themselves: an event that a Gateway (with data validation on, the default)
// validated before handing it to a transport is not scanned again, unless its
// Data has since been replaced by another slice.
func (e *Event) CheckData() error {
	if len(e.Data) == 0 {
		return nil
	}
	if len(e.checked) == len(e.Data) && unsafe.SliceData(e.checked) == unsafe.SliceData(e.Data) {
		return nil
	}
	if !jsonx.Valid(e.Data) {
		return errInvalidData
	}
	return nil
}

// Clone returns a deep copy of e that shares no memory with it.
func (e *Event) Clone() *Event {
	c := *e
	c.checked = nil
	if e.Data != nil {
		c.Data = bytes.Clone(e.Data)
	}
	if e.Meta != nil {
		c.Meta = bytes.Clone(e.Meta)
	}
	return &c
}

// Size is an estimate of the bytes e occupies once encoded, used for batch and
// backlog limits.
func (e *Event) Size() int {
	return len(e.ID) + len(e.SessionID) + len(e.Type) + len(e.Data) + len(e.Meta) + 32
}
