package httpx

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// request is one request a receiver got.
type request struct {
	header http.Header
	body   []byte
}

// receiver is an HTTP endpoint that decodes what the transport sends and
// keeps it, in arrival order. When secret is set it refuses (401) requests
// whose signature Verify rejects. A before hook may answer a request itself
// (returning true), for tests of failures.
type receiver struct {
	secret []byte
	before func(w http.ResponseWriter, r *http.Request, body []byte, n int) bool

	mu       sync.Mutex
	events   []*eventgate.Event
	requests []request
	n        int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.n++
	n := rc.n
	rc.requests = append(rc.requests, request{header: r.Header.Clone(), body: body})
	rc.mu.Unlock()
	if rc.before != nil && rc.before(w, r, body, n) {
		return
	}
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	if rc.secret != nil {
		if err := Verify(rc.secret, r.Header, body, time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	evs, err := Decode(r.Header.Get("Content-Type"), body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	rc.events = append(rc.events, evs...)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// record keeps evs as received without a request (for hooks that accept an
// event but then fail the answer).
func (rc *receiver) record(contentType string, body []byte) {
	evs, err := Decode(contentType, body)
	if err != nil {
		return
	}
	rc.mu.Lock()
	rc.events = append(rc.events, evs...)
	rc.mu.Unlock()
}

func (rc *receiver) fetch(context.Context) ([]*eventgate.Event, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.events), nil
}

func (rc *receiver) got() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.requests)
}

// serve starts an httptest server for h, closed at cleanup.
func serve(tb testing.TB, h http.Handler) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return srv
}

// newTransport builds a transport for the test and closes it at cleanup.
func newTransport(tb testing.TB, cfg Config) *Transport {
	tb.Helper()
	tr, err := New(cfg)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	tb.Cleanup(func() { _ = tr.Close() })
	return tr
}

var testTime = time.Date(2025, 6, 10, 12, 0, 0, 123456789, time.UTC)

// testEvent returns event i of session s.
func testEvent(s string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: s,
		Type:      "test.step",
		Time:      testTime.Add(time.Duration(i) * (time.Millisecond + time.Nanosecond)),
		Data:      []byte(`{"i":` + strconv.Itoa(i) + `,"session":"` + s + `"}`),
		Meta:      eventgate.StringMeta(map[string]string{"i": strconv.Itoa(i)}),
	}
}
