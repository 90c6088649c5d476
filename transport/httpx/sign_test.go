package httpx

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

func TestVerify(t *testing.T) {
	secret := []byte("top secret")
	body := []byte(`{"event":{"a":1}}`)
	now := time.Unix(1718040000, 0)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := Sign(secret, ts, body)
	hdr := func(kv ...string) http.Header {
		h := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			h.Add(kv[i], kv[i+1])
		}
		return h
	}
	tests := []struct {
		name      string
		secret    []byte
		header    http.Header
		body      []byte
		tolerance time.Duration
		ok        bool
	}{
		{"valid", secret, hdr(HeaderTimestamp, ts, HeaderSignature, good), body, time.Minute, true},
		{"valid, no tolerance check", secret, hdr(HeaderTimestamp, "1", HeaderSignature, Sign(secret, "1", body)), body, 0, true},
		{"one of several", secret, hdr(HeaderTimestamp, ts, HeaderSignature, "sha256=00ff, "+good), body, time.Minute, true},
		{"in a second header line", secret, hdr(HeaderTimestamp, ts, HeaderSignature, "sha256=00", HeaderSignature, good), body, time.Minute, true},
		{"tampered body", secret, hdr(HeaderTimestamp, ts, HeaderSignature, good), []byte(`{"event":{"a":2}}`), time.Minute, false},
		{"wrong secret", []byte("other"), hdr(HeaderTimestamp, ts, HeaderSignature, good), body, time.Minute, false},
		{"timestamp changed", secret, hdr(HeaderTimestamp, strconv.FormatInt(now.Unix()+1, 10), HeaderSignature, good), body, time.Minute, false},
		{"too old", secret, hdr(HeaderTimestamp, "1718039000", HeaderSignature, Sign(secret, "1718039000", body)), body, time.Minute, false},
		{"from the future", secret, hdr(HeaderTimestamp, "1718041000", HeaderSignature, Sign(secret, "1718041000", body)), body, time.Minute, false},
		{"no timestamp", secret, hdr(HeaderSignature, good), body, time.Minute, false},
		{"bad timestamp", secret, hdr(HeaderTimestamp, "noon", HeaderSignature, good), body, time.Minute, false},
		{"no signature", secret, hdr(HeaderTimestamp, ts), body, time.Minute, false},
		{"other scheme", secret, hdr(HeaderTimestamp, ts, HeaderSignature, "sha1="+good[7:]), body, time.Minute, false},
		{"not hex", secret, hdr(HeaderTimestamp, ts, HeaderSignature, "sha256=zz"), body, time.Minute, false},
		{"empty secret", nil, hdr(HeaderTimestamp, ts, HeaderSignature, good), body, time.Minute, false},
	}
	for _, tt := range tests {
		err := verifyAt(now, tt.secret, tt.header, tt.body, tt.tolerance)
		if tt.ok && err != nil {
			t.Errorf("%s: %v", tt.name, err)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidSignature) {
			t.Errorf("%s: Verify = %v, want ErrInvalidSignature", tt.name, err)
		}
	}
	if len(good) != len("sha256=")+64 {
		t.Errorf("signature %q is not sha256= and 64 hex digits", good)
	}
}

// TestSignedRequests checks end to end that the receiver verifies what the
// transport signs, and that a receiver with another secret refuses it.
func TestSignedRequests(t *testing.T) {
	secret := []byte("shared secret")
	rc := &receiver{secret: secret}
	srv := serve(t, rc)
	tr := newTransport(t, Config{URL: srv.URL, HMACSecret: secret})
	ctx := t.Context()
	if err := tr.Send(ctx, testEvent("s", 0)); err != nil {
		t.Fatalf("signed Send: %v", err)
	}
	if err := tr.SendBatch(ctx, []*eventgate.Event{testEvent("s", 1), testEvent("s", 2)}); err != nil {
		t.Fatalf("signed SendBatch: %v", err)
	}
	for _, r := range rc.got() {
		if err := Verify(secret, r.header, r.body, time.Minute); err != nil {
			t.Errorf("request not verifiable: %v", err)
		}
	}
	other := newTransport(t, Config{URL: srv.URL, HMACSecret: []byte("wrong secret")})
	if err := other.Send(ctx, testEvent("s", 3)); !errors.Is(err, eventgate.ErrUnavailable) {
		t.Fatalf("Send signed with the wrong secret: %v, want KindUnavailable (401)", err)
	}
	unsigned := newTransport(t, Config{URL: srv.URL})
	if err := unsigned.Send(ctx, testEvent("s", 4)); !errors.Is(err, eventgate.ErrUnavailable) {
		t.Fatalf("unsigned Send: %v, want KindUnavailable (401)", err)
	}
	if evs, _ := rc.fetch(ctx); len(evs) != 3 {
		t.Fatalf("receiver accepted %d events, want the 3 correctly signed", len(evs))
	}
}
