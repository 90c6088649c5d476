package httpx

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

// TestStatus checks how every class of answer is reported, against a real
// server answering each status.
func TestStatus(t *testing.T) {
	longBody := strings.Repeat("x", 2000)
	retryDate := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		status     int
		header     map[string]string
		body       string
		want       eventgate.Kind // KindUnknown with ok = accepted
		ok         bool
		retryAfter time.Duration // expected hint; <0 = between 80s and 90s
	}{
		{status: 200, ok: true},
		{status: 201, ok: true},
		{status: 202, ok: true},
		{status: 204, ok: true},
		{status: 299, ok: true},
		{status: 301, header: map[string]string{"Location": "/elsewhere"}, want: eventgate.KindUnavailable},
		{status: 302, header: map[string]string{"Location": "/elsewhere"}, want: eventgate.KindUnavailable},
		{status: 307, header: map[string]string{"Location": "/elsewhere"}, want: eventgate.KindUnavailable},
		{status: 400, body: `{"error":"bad event"}`, want: eventgate.KindRejected},
		{status: 401, want: eventgate.KindUnavailable},
		{status: 403, want: eventgate.KindUnavailable},
		{status: 404, body: longBody, want: eventgate.KindUnavailable},
		{status: 409, want: eventgate.KindRejected},
		{status: 413, want: eventgate.KindRejected},
		{status: 422, want: eventgate.KindRejected},
		{status: 408, want: eventgate.KindTimeout},
		{status: 425, want: eventgate.KindThrottled},
		{status: 429, want: eventgate.KindThrottled},
		{status: 429, header: map[string]string{"Retry-After": "7"}, want: eventgate.KindThrottled, retryAfter: 7 * time.Second},
		{status: 429, header: map[string]string{"Retry-After": "soon"}, want: eventgate.KindThrottled},
		{status: 503, header: map[string]string{"Retry-After": retryDate}, want: eventgate.KindThrottled, retryAfter: -1},
		{status: 503, want: eventgate.KindThrottled},
		{status: 500, header: map[string]string{"Retry-After": "3"}, want: eventgate.KindUnknown, retryAfter: 3 * time.Second},
		{status: 501, want: eventgate.KindUnknown},
		{status: 502, want: eventgate.KindConnection},
		{status: 504, want: eventgate.KindTimeout},
		// A hint on a permanent refusal is ignored.
		{status: 400, header: map[string]string{"Retry-After": "5"}, want: eventgate.KindRejected},
	}
	for _, tt := range tests {
		name := strconv.Itoa(tt.status)
		for k, v := range tt.header {
			name += " " + k + "=" + v
		}
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			tr := newTransport(t, Config{URL: srv.URL})
			err := tr.Send(t.Context(), testEvent("s", 0))
			if tt.ok {
				if err != nil {
					t.Fatalf("status %d: %v, want success", tt.status, err)
				}
				return
			}
			var te *eventgate.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("status %d: %v (%T), want a *eventgate.TransportError", tt.status, err, err)
			}
			if te.Kind != tt.want {
				t.Errorf("status %d: kind %v, want %v (%v)", tt.status, te.Kind, tt.want, err)
			}
			if te.Transport != "http" {
				t.Errorf("Transport = %q", te.Transport)
			}
			var se *StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Fatalf("status %d: no *StatusError with the code in %v", tt.status, err)
			}
			switch {
			case tt.retryAfter < 0:
				if te.RetryAfter < 80*time.Second || te.RetryAfter > 90*time.Second {
					t.Errorf("RetryAfter = %v from an HTTP date 90s ahead", te.RetryAfter)
				}
			case te.RetryAfter != tt.retryAfter:
				t.Errorf("RetryAfter = %v, want %v", te.RetryAfter, tt.retryAfter)
			}
			if tt.body != "" && len(tt.body) < DefaultMaxErrorBody {
				if se.Body != tt.body || !strings.Contains(err.Error(), "bad event") {
					t.Errorf("error %q does not quote the body", err)
				}
			}
			if len(tt.body) > DefaultMaxErrorBody {
				if len(se.Body) > DefaultMaxErrorBody+len("…") || !strings.HasSuffix(se.Body, "…") {
					t.Errorf("body snippet is %d bytes, want at most %d and marked as cut", len(se.Body), DefaultMaxErrorBody)
				}
			}
			if tt.status >= 300 && tt.status < 400 {
				if calls.Load() != 1 {
					t.Errorf("the redirect was followed: %d requests", calls.Load())
				}
				if se.Location != "/elsewhere" {
					t.Errorf("Location = %q", se.Location)
				}
			}
		})
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"120", 2 * time.Minute, true},
		{" 5 ", 5 * time.Second, true},
		{"0", 0, false},
		{"-3", 0, false},
		{"1.5", 0, false},
		{"99999999999", maxRetryAfter, true},
		{"Tue, 10 Jun 2025 12:00:30 GMT", 30 * time.Second, true},
		{"Tuesday, 10-Jun-25 12:01:00 GMT", time.Minute, true}, // RFC 850
		{"Tue Jun 10 12:00:10 2025", 10 * time.Second, true},   // asctime
		{"Tue, 10 Jun 2025 11:59:00 GMT", 0, false},            // in the past
		{"Wed, 10 Jun 2026 12:00:00 GMT", maxRetryAfter, true},
		{"tomorrow", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSnippet(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  string
	}{
		{"  short \n", 10, "short"},
		{"exactly10!", 10, "exactly10!"},
		{"this is longer", 7, "this is…"},
		{"ab\xffcd", 10, "ab\uFFFDcd"},
		{"héllo", 2, "h…"}, // the cut would split é
		{"anything", 0, ""},
	}
	for _, tt := range tests {
		if got := snippet(strings.NewReader(tt.in), tt.limit); got != tt.want {
			t.Errorf("snippet(%q, %d) = %q, want %q", tt.in, tt.limit, got, tt.want)
		}
	}
}
