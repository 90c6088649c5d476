package server

import (
	"strings"
	"testing"
)

// The stored-session figures in /metrics follow the catalog: sessions,
// events and bytes stored, and the sessions deleted.
func TestMetricsReportStoredSessions(t *testing.T) {
	e := newEnv(t, Options{})
	e.post("application/x-ndjson", `{"session_id":"a","data":1}`+"\n"+`{"session_id":"a","data":2}`+"\n"+`{"session_id":"b","data":3}`+"\n")
	e.flush()
	scrape := func() string {
		t.Helper()
		code, b, _ := e.do("GET", "/metrics", readToken, "", nil)
		if code != 200 {
			t.Fatal(code)
		}
		return string(b)
	}
	m := scrape()
	for _, want := range []string{
		"eventgate_sessions_stored 2\n", "eventgate_session_events_stored 3\n",
		"eventgate_sessions_pruned_total 0\n", "eventgate_session_catalog_unusable 0\n",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if strings.Contains(m, "eventgate_session_bytes_stored 0\n") || !strings.Contains(m, "eventgate_session_bytes_stored ") {
		t.Error("eventgate_session_bytes_stored is missing or 0")
	}
	if code, b, _ := e.do("DELETE", "/v1/sessions/a", adminToken, "", nil); code != 200 && code != 204 {
		t.Fatalf("delete: %d %s", code, b)
	}
	m = scrape()
	for _, want := range []string{"eventgate_sessions_stored 1\n", "eventgate_session_events_stored 1\n"} {
		if !strings.Contains(m, want) {
			t.Errorf("after deleting a: metrics lack %q", want)
		}
	}
}
