package httpx

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

// StatusError is the cause of every error the transport returns for a
// response outside 2xx. errors.As gives access to the status and the start of
// the body.
type StatusError struct {
	StatusCode int    // the response's status code
	Status     string // the response's status line, e.g. "429 Too Many Requests"
	Body       string // up to Config.MaxErrorBody bytes of the body, valid UTF-8
	Location   string // the Location header of a redirect
}

// Error formats as "HTTP <status>: <body>".
func (e *StatusError) Error() string {
	var b strings.Builder
	b.WriteString("HTTP ")
	b.WriteString(e.Status)
	if e.Location != "" {
		b.WriteString(" to ")
		b.WriteString(e.Location)
		b.WriteString(" (redirects are not followed; configure the final URL)")
	}
	if e.Body != "" {
		b.WriteString(": ")
		b.WriteString(strconv.Quote(e.Body))
	}
	return b.String()
}

// statusKind maps a status outside 2xx to its kind:
//
//	408 Request Timeout, 504 Gateway Timeout         KindTimeout   (retryable)
//	425 Too Early, 429 Too Many Requests,
//	503 Service Unavailable                          KindThrottled (retryable)
//	502 Bad Gateway                                  KindConnection (retryable)
//	any other 5xx                                    KindUnknown   (retryable)
//	401, 403, 404, 405, 407, 415, 1xx and 3xx         KindUnavailable (the
//	                                                 endpoint refuses every
//	                                                 event: the route pauses)
//	every other 4xx                                  KindRejected  (permanent)
func statusKind(code int) eventgate.Kind {
	switch code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusProxyAuthRequired, http.StatusUnsupportedMediaType:
		return eventgate.KindUnavailable
	case http.StatusRequestTimeout, http.StatusGatewayTimeout:
		return eventgate.KindTimeout
	case http.StatusTooEarly, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return eventgate.KindThrottled
	case http.StatusBadGateway:
		return eventgate.KindConnection
	}
	if code >= 500 && code <= 599 {
		return eventgate.KindUnknown
	}
	if code < 200 || (code >= 300 && code <= 399) {
		return eventgate.KindUnavailable
	}
	return eventgate.KindRejected
}

// statusError builds the error for resp (status outside 2xx), reading at most
// limit bytes of its body.
func (t *Transport) statusError(resp *http.Response, now time.Time) error {
	se := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Body: snippet(resp.Body, t.cfg.MaxErrorBody)}
	if se.Status == "" {
		se.Status = strconv.Itoa(resp.StatusCode)
	}
	if resp.StatusCode >= 300 && resp.StatusCode <= 399 {
		se.Location = resp.Header.Get("Location")
	}
	kind := statusKind(resp.StatusCode)
	te := eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("httpx: POST %s: %w", t.redacted, se))
	if kind.Retryable() {
		if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), now); ok {
			te.RetryAfter = d
		}
	}
	return te
}

// snippet reads up to limit bytes of r as trimmed, valid UTF-8, marking a cut
// with "…".
func snippet(r io.Reader, limit int) string {
	if limit <= 0 {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	cut := len(b) > limit
	if cut {
		b = b[:limit]
		// Drop a rune the cut split in two.
		for i := 1; i < utf8.UTFMax && len(b) > 0; i++ {
			if r, size := utf8.DecodeLastRune(b); r != utf8.RuneError || size > 1 {
				break
			}
			b = b[:len(b)-1]
		}
	}
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "\uFFFD"))
	if cut {
		s += "…"
	}
	return s
}

// maxRetryAfter bounds a Retry-After hint; a larger value is taken as this.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value, either delay seconds or an HTTP
// date, as the wait from now. It reports false for an absent or invalid value
// and for a date not in the future.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0, false
		}
		if n > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	d := at.Sub(now)
	if d <= 0 {
		return 0, false
	}
	return min(d, maxRetryAfter), true
}

// requestError maps a failure of Client.Do (no response) to its kind: the
// per-request deadline is KindTimeout, the caller's cancellation keeps
// eventgate.Classify's kind, and every other failure to exchange the request
// (refused, reset, closed mid-response, TLS handshake) is KindConnection.
func (t *Transport) requestError(op string, err error) error {
	kind := eventgate.Classify(err)
	switch {
	case errors.Is(err, context.Canceled):
	case kind == eventgate.KindTimeout:
	default:
		var ue *url.Error
		if errors.As(err, &ue) && ue.Timeout() {
			kind = eventgate.KindTimeout
		} else {
			kind = eventgate.KindConnection
		}
	}
	if ue, ok := err.(*url.Error); ok {
		err = ue.Err // the URL is added below, redacted
	}
	return eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("httpx: %s %s: %w", op, t.redacted, err))
}
