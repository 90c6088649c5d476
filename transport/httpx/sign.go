package httpx

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers the transport sets on every request.
const (
	// HeaderIdempotencyKey carries the event id (Send), or "<first id>..<last
	// id>" for a batch of more than one event (SendBatch), so a receiver can
	// recognise a re-delivery.
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderTimestamp carries the Unix time in seconds at which a signed
	// request was made.
	HeaderTimestamp = "X-Eventgate-Timestamp"
	// HeaderSignature carries "sha256=" followed by the lower-case hex
	// HMAC-SHA256 of timestamp + "." + body.
	HeaderSignature = "X-Eventgate-Signature"
)

// ErrInvalidSignature is matched (errors.Is) by every error Verify returns.
var ErrInvalidSignature = errors.New("httpx: invalid signature")

// Sign returns the X-Eventgate-Signature value for body sent at timestamp
// (Unix seconds, as written in X-Eventgate-Timestamp).
func Sign(secret []byte, timestamp string, body []byte) string {
	return "sha256=" + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret []byte, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks a signed request: header must carry X-Eventgate-Timestamp and
// an X-Eventgate-Signature that matches HMAC-SHA256(secret, timestamp + "." +
// body). When tolerance is positive, the timestamp must also be within
// tolerance of the receiver's clock, which bounds how long a captured request
// can be replayed (five minutes is a common choice). The signature header may
// list several comma-separated values; one match is enough.
//
// body must be the request body exactly as received. Verify compares in
// constant time. Every error it returns matches ErrInvalidSignature.
func Verify(secret []byte, header http.Header, body []byte, tolerance time.Duration) error {
	return verifyAt(time.Now(), secret, header, body, tolerance)
}

func verifyAt(now time.Time, secret []byte, header http.Header, body []byte, tolerance time.Duration) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: empty secret", ErrInvalidSignature)
	}
	ts := header.Get(HeaderTimestamp)
	if ts == "" {
		return fmt.Errorf("%w: no %s header", ErrInvalidSignature, HeaderTimestamp)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not Unix seconds", ErrInvalidSignature, HeaderTimestamp, ts)
	}
	if tolerance > 0 {
		skew := now.Sub(time.Unix(sec, 0))
		if skew < 0 {
			skew = -skew
		}
		if skew > tolerance {
			return fmt.Errorf("%w: timestamp is %v away from now (tolerance %v)", ErrInvalidSignature, skew.Round(time.Second), tolerance)
		}
	}
	sigs := header.Values(HeaderSignature)
	if len(sigs) == 0 {
		return fmt.Errorf("%w: no %s header", ErrInvalidSignature, HeaderSignature)
	}
	want := mac(secret, ts, body)
	for _, line := range sigs {
		for _, s := range strings.Split(line, ",") {
			hexSig, ok := strings.CutPrefix(strings.TrimSpace(s), "sha256=")
			if !ok {
				continue
			}
			got, err := hex.DecodeString(hexSig)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: no sha256 signature matches", ErrInvalidSignature)
}
