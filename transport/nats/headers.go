package nats

import (
	"strings"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

// validHeaderKey reports whether s can name a NATS header: printable ASCII
// without the separators the client library refuses.
func validHeaderKey(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 33 || c > 126 || strings.IndexByte(`"()/,:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// headerValueSafe reports whether v survives the header encoding unchanged:
// the client trims surrounding whitespace and turns CR and LF into spaces.
func headerValueSafe(v string) bool {
	if strings.ContainsAny(v, "\r\n") {
		return false
	}
	return strings.TrimSpace(v) == v
}

// buildHeader returns the headers of ev's message: Nats-Msg-Id carries the
// event id (the stream's de-duplication key), and each Meta member, flattened
// by eventgate.FlattenMeta, becomes prefix+key. Meta entries whose key is not a valid header name, or whose
// value would not survive a header unchanged (CR, LF, leading or trailing
// whitespace), are left out of the headers; the JSON body always carries
// Meta exactly.
func buildHeader(prefix string, ev *eventgate.Event) natsgo.Header {
	h := make(natsgo.Header, 4)
	if ev.ID != "" {
		h[jetstream.MsgIDHeader] = []string{ev.ID}
	}
	// Malformed Meta gives no headers; the body is refused for it anyway.
	_ = eventgate.FlattenMeta(ev.Meta, func(k, v string) {
		key := prefix + k
		if !validHeaderKey(key) || !headerValueSafe(v) {
			return
		}
		h[key] = []string{v}
	})
	return h
}
