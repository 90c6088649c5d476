package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

const otherIngestToken = "other-ingest-token-0123456"

// heldUpload starts a chunked NDJSON upload that sends one line and then
// waits: it holds an ingest slot until release is called, which ends the
// body and returns the answer's status.
func (e *env) heldUpload(token string) (release func() int) {
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("POST", e.url+"/v1/events", pr)
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := e.client.Do(req)
		if err != nil {
			done <- -1
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	if _, err := pw.Write([]byte(`{"session_id":"held","data":1}` + "\n")); err != nil {
		e.t.Fatal(err)
	}
	return func() int { pw.Close(); return <-done }
}

func (e *env) postAs(token, body string) (int, http.Header) {
	e.t.Helper()
	code, _, h := e.do("POST", "/v1/events", token, "application/json", strings.NewReader(body))
	return code, h
}

// Issue 12, scenario 8: slow uploads of one token take neither the reads'
// slots nor other tokens' ingest slots.
func TestIngestPoolAndTokenCap(t *testing.T) {
	const perToken = 3
	opts := Options{MaxIngest: 5, MaxConcurrent: 2, MaxPerToken: perToken, MinUploadRate: -1}
	opts.Tokens = []Token{
		mustToken(t, "ingest", ingestToken, ScopeIngest),
		mustToken(t, "other", otherIngestToken, ScopeIngest),
		mustToken(t, "read", readToken, ScopeRead),
	}
	e := newEnv(t, opts)
	var releases []func() int
	for range perToken {
		releases = append(releases, e.heldUpload(ingestToken))
	}
	// Once the token's uploads hold its slots, its next request is refused.
	waitFor(t, "the token cap to answer 503", func() bool {
		code, h := e.postAs(ingestToken, `{"session_id":"a","data":1}`)
		if code == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
			t.Fatal("503 without Retry-After")
		}
		return code == http.StatusServiceUnavailable
	})
	// Reads and other tokens are served meanwhile.
	if code, b, _ := e.do("GET", "/v1/sessions", readToken, "", nil); code != http.StatusOK {
		t.Fatalf("read while one token's uploads are held: %d %s", code, b)
	}
	if code, _ := e.postAs(otherIngestToken, `{"session_id":"b","data":1}`); !accepted(code) {
		t.Fatalf("another token's ingest: %d", code)
	}
	// The pool's own cap: two more held uploads of the other token fill it.
	releases = append(releases, e.heldUpload(otherIngestToken), e.heldUpload(otherIngestToken))
	waitFor(t, "the ingest pool to answer 503", func() bool {
		code, _ := e.postAs(otherIngestToken, `{"session_id":"b","data":1}`)
		return code == http.StatusServiceUnavailable
	})
	if code, b, _ := e.do("GET", "/v1/sessions", readToken, "", nil); code != http.StatusOK {
		t.Fatalf("read while the ingest pool is full: %d %s", code, b)
	}
	for _, release := range releases {
		if code := release(); !accepted(code) {
			t.Fatalf("a held upload ended %d", code)
		}
	}
}

// Issue 12, scenario 8: an upload slower than MinUploadRate is cut with 408;
// the lines it delivered before are recorded.
func TestSlowUploadIsCut(t *testing.T) {
	e := newEnv(t, Options{MinUploadRate: 1 << 20, UploadRateWindow: 50 * time.Millisecond})
	for _, ct := range []string{"application/x-ndjson", "application/json"} {
		t.Run(ct, func(t *testing.T) {
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() {
				// One line, then nothing: far below 1 MiB/s.
				_, _ = pw.Write([]byte(`{"session_id":"slow","data":1}` + "\n"))
			}()
			req, _ := http.NewRequest("POST", e.url+"/v1/events", pr)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+ingestToken)
			resp, err := e.client.Do(req)
			if err != nil {
				t.Fatalf("the slow upload got no answer: %v", err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			var res IngestResult
			_ = json.Unmarshal(raw, &res)
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("slow upload: %d %s %v, want 408", resp.StatusCode, raw, resp.Header)
			}
			if ct == "application/x-ndjson" && res.Accepted != 1 {
				t.Fatalf("the line before the cut: %+v, want it accepted", res)
			}
		})
	}
	// A fast body is not cut.
	if code, res := e.post("application/x-ndjson", strings.Repeat(`{"session_id":"fast","data":1}`+"\n", 100)); !accepted(code) {
		t.Fatalf("fast upload: %d %+v", code, res)
	}
}

// Issue 12, scenario 6: meta counts toward the event size limit; an oversized
// item is refused alone (413 per item), the others are recorded, and the
// answer is never a 5xx.
func TestMetaCountsTowardEventSize(t *testing.T) {
	const limit = 64 << 10
	e := newEnv(t, Options{MaxEventSize: limit}, eventgate.WithMaxEventSize(limit))
	bigMeta := `{"m":"` + strings.Repeat("x", 2*limit) + `"}`
	small := func(i int) string { return fmt.Sprintf(`{"session_id":"meta","type":"t","data":{"i":%d}}`, i) }
	big := `{"session_id":"meta","type":"t","data":1,"meta":` + bigMeta + `}`

	if code, res := e.post("application/json", big); code != http.StatusRequestEntityTooLarge || len(res.Errors) != 1 || res.Errors[0].Code != codeTooLarge {
		t.Fatalf("one event with a large meta: %d %+v, want 413 too_large", code, res)
	}
	var arr, nd bytes.Buffer
	arr.WriteString("[")
	for i := range 200 {
		if i > 0 {
			arr.WriteString(",")
		}
		item := small(i)
		if i == 150 {
			item = big
		}
		arr.WriteString(item)
		nd.WriteString(item + "\n")
	}
	arr.WriteString("]")
	for _, c := range []struct{ ct, body string }{{"application/json", arr.String()}, {"application/x-ndjson", nd.String()}} {
		code, res := e.post(c.ct, c.body)
		if code != http.StatusMultiStatus || res.Accepted != 199 || res.Rejected != 1 ||
			len(res.Errors) != 1 || res.Errors[0].Index != 150 || res.Errors[0].Code != codeTooLarge {
			t.Fatalf("%s batch with one large meta: %d accepted %d rejected %d errors %+v, want 207 with item 150 too_large",
				c.ct, code, res.Accepted, res.Rejected, res.Errors)
		}
	}
	e.flush()
	if got := len(e.events("meta", "?limit=10000")); got != 2*199 {
		t.Fatalf("recorded %d events, want %d", got, 2*199)
	}
}

// Issue 12, scenario 7: invalid UTF-8 in any member is refused with 400
// naming the member, never recorded raw or replaced.
func TestInvalidUTF8IsRefused(t *testing.T) {
	e := newEnv(t, Options{})
	bad := "\xff\xfe"
	for _, c := range []struct{ member, body string }{
		{"data", `{"session_id":"u","type":"t","data":{"text":"` + bad + `"}}`},
		{"type", `{"session_id":"u","type":"` + bad + `","data":1}`},
		{"meta", `{"session_id":"u","type":"t","data":1,"meta":{"k":"` + bad + `"}}`},
		{"meta", `{"session_id":"u","type":"t","data":1,"meta":{"` + bad + `":"v"}}`},
		{"session_id", `{"session_id":"u` + bad + `","type":"t","data":1}`},
		{"event", `{"event":{"session_id":"u","text":"` + bad + `"},"timestamp":1}`},
		{"metadata", `{"event":{"session_id":"u"},"metadata":{"k":"` + bad + `"}}`},
	} {
		code, res := e.post("application/json", c.body)
		if code != http.StatusBadRequest || !strings.Contains(res.Error, `"`+c.member+`"`) || !strings.Contains(res.Error, "UTF-8") {
			t.Errorf("invalid UTF-8 in %s: %d %q, want 400 naming %q", c.member, code, res.Error, c.member)
		}
	}
	code, res := e.post("application/x-ndjson", `{"session_id":"u","data":1}`+"\n"+`{"session_id":"u","data":"`+bad+`"}`+"\n")
	if code != http.StatusMultiStatus || len(res.Errors) != 1 || res.Errors[0].Line != 2 || !strings.Contains(res.Errors[0].Error, `"data"`) {
		t.Fatalf("NDJSON with a bad line: %d %+v", code, res)
	}
	e.flush()
	if got := len(e.events("u", "")); got != 1 {
		t.Fatalf("recorded %d events of session u, want 1", got)
	}
}
