package server

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/eventgate/eventgate"
)

func benchServer(b *testing.B) *Server {
	b.Helper()
	gw, err := eventgate.Open(b.TempDir(), eventgate.WithSync(eventgate.SyncNever))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = gw.Close(context.Background()) })
	s, err := New(gw, Options{NoAuth: true})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkIngestSingle measures the handler's cost for one event per
// request (journal without fsync, no network).
func BenchmarkIngestSingle(b *testing.B) {
	s := benchServer(b)
	body := []byte(`{"session_id":"bench","type":"load","data":{"client":1,"n":2,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
}

// BenchmarkIngestNDJSON measures the handler's cost per event of 1,000-line
// NDJSON requests.
func BenchmarkIngestNDJSON(b *testing.B) {
	s := benchServer(b)
	var body bytes.Buffer
	for i := range 1000 {
		fmt.Fprintf(&body, `{"session_id":"bench-%d","type":"load","data":{"client":1,"n":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}}`+"\n", i%100, i)
	}
	b.ReportAllocs()
	b.SetBytes(int64(body.Len()))
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/events", bytes.NewReader(body.Bytes()))
		req.Header.Set("Content-Type", "application/x-ndjson")
		w := httptest.NewRecorder()
		s.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code, w.Body.String())
		}
	}
	b.ReportMetric(float64(b.N*1000)/b.Elapsed().Seconds(), "events/s")
}
