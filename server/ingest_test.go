package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport"
)

func TestIngestEveryShape(t *testing.T) {
	e := newEnv(t, Options{})
	// (a) one event in eventgate's form
	code, res := e.post("application/json",
		`{"session_id":"s1","type":"msg","time":"2026-01-02T03:04:05.123456789Z","data":{"n": 1},"meta":{"k":"v"}}`)
	if code != 200 || res.Accepted != 1 || len(res.IDs) != 1 {
		t.Fatalf("single: %d %+v", code, res)
	}
	// (b) the seed payload, unchanged
	seedEvent := `{"type": "tool_call", "user_session_id": "s1", "args": {"a": [1, 2.50, "x"]}}`
	code, res = e.post("application/json",
		`{"event": `+seedEvent+`, "metadata": {"source": "agent", "attempt": 2, "tags": ["a"]}, "timestamp": 1767323045.5}`)
	if code != 200 || res.Accepted != 1 {
		t.Fatalf("seed: %d %+v", code, res)
	}
	seedID := res.IDs[0]
	// (c) an array of both
	code, res = e.post("application/json",
		`[{"session_id":"s2","data":1},{"event":{"session_id":"s2","type":"t"},"metadata":{},"timestamp":1767323046}]`)
	if code != 200 || res.Accepted != 2 || len(res.IDs) != 2 {
		t.Fatalf("array: %d %+v", code, res)
	}
	// (d) NDJSON with a blank line and no final newline
	code, res = e.post("application/x-ndjson",
		"{\"session_id\":\"s3\",\"data\":\"a\"}\n\n{\"event\":{\"user_session_id\":\"s3\"}}\r\n{\"session_id\":\"s3\",\"data\":null}")
	if code != 200 || res.Accepted != 3 {
		t.Fatalf("ndjson: %d %+v", code, res)
	}
	e.flush()

	evs := e.events("s1", "")
	if len(evs) != 2 {
		t.Fatalf("s1 has %d events, want 2", len(evs))
	}
	if got := string(evs[0]["data"]); got != `{"n": 1}` {
		t.Errorf("single data = %s", got)
	}
	if str(evs[0]["time"]) != "2026-01-02T03:04:05.123456789Z" || str(evs[0]["type"]) != "msg" {
		t.Errorf("single event = %v", evs[0])
	}
	if got := string(evs[1]["data"]); got != seedEvent {
		t.Errorf("seed data = %s, want %s", got, seedEvent)
	}
	// The seed's metadata keeps its JSON types, byte for byte.
	if got := string(evs[1]["meta"]); got != `{"source": "agent", "attempt": 2, "tags": ["a"]}` {
		meta := got
		t.Errorf("seed meta = %v", meta)
	}
	if str(evs[1]["type"]) != "tool_call" || str(evs[1]["time"]) != "2026-01-02T03:04:05.5Z" || str(evs[1]["id"]) != seedID {
		t.Errorf("seed event = %v", evs[1])
	}
	if n := len(e.events("s2", "")); n != 2 {
		t.Errorf("s2 has %d events", n)
	}
	if n := len(e.events("s3", "")); n != 3 {
		t.Errorf("s3 has %d events", n)
	}

	// The session file holds the posted "event" object byte for byte.
	files, _ := filepath.Glob(filepath.Join(e.dir, "s1", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("session files %v", files)
	}
	f, _ := os.Open(files[0])
	defer f.Close()
	sc := bufio.NewScanner(f)
	found := false
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(`"event":`+seedEvent+`,"id":"`+seedID+`"`)) {
			found = true
		}
	}
	if !found {
		t.Errorf("the session file has no line with the seed event's bytes")
	}
}

func TestIngestPartialAndInvalid(t *testing.T) {
	e := newEnv(t, Options{MaxEventSize: 1000}, eventgate.WithMaxEventSize(1000))
	big := strings.Repeat("x", 2000)

	t.Run("invalid JSON object gives the offset", func(t *testing.T) {
		code, res := e.post("application/json", `{"session_id":"s","data":{"a":1,}}`)
		if code != 400 || res.Offset == nil || *res.Offset != 32 || !strings.Contains(res.Error, "offset 32") {
			t.Fatalf("%d %+v", code, res)
		}
	})
	t.Run("invalid JSON array gives the offset and keeps nothing", func(t *testing.T) {
		code, res := e.post("application/json", `[{"session_id":"bad1","data":1}, {"session_id":"bad1","data":tru}]`)
		if code != 400 || res.Offset == nil || res.Accepted != 0 {
			t.Fatalf("%d %+v", code, res)
		}
		if _, err := e.gw.Session("bad1"); err == nil {
			t.Fatal("an event of a malformed array was recorded")
		}
	})
	t.Run("NDJSON with bad lines answers 207 and keeps the others", func(t *testing.T) {
		body := `{"session_id":"p1","data":1}` + "\n" +
			`{"session_id":"p1","data":` + "\n" + // invalid JSON, line 2
			`{"session_id":"../../etc","data":3}` + "\n" + // traversal, line 3
			`{"session_id":"p1","data":"` + big + `"}` + "\n" + // too large, line 4
			`[1,2]` + "\n" + // not an object, line 5
			`{"session_id":"p1","data":6}` + "\n"
		code, res := e.post("application/x-ndjson", body)
		if code != http.StatusMultiStatus || res.Accepted != 2 || res.Rejected != 4 || len(res.IDs) != 2 {
			t.Fatalf("%d %+v", code, res)
		}
		want := map[int]string{2: codeInvalidJSON, 3: codeInvalidEvent, 4: codeTooLarge, 5: codeInvalidEvent}
		for _, ie := range res.Errors {
			if want[ie.Line] != ie.Code || ie.Index != ie.Line-1 {
				t.Errorf("item error %+v", ie)
			}
			delete(want, ie.Line)
		}
		if len(want) != 0 {
			t.Errorf("missing item errors for lines %v", want)
		}
		e.flush()
		if n := len(e.events("p1", "")); n != 2 {
			t.Errorf("p1 has %d events, want 2", n)
		}
	})
	t.Run("path traversal in events is refused per item", func(t *testing.T) {
		for _, id := range []string{"../x", "..", "a/b", `a\b`, ".hidden", "nul\u0000l"} {
			ev, _ := json.Marshal(map[string]any{"session_id": id, "data": 1})
			code, res := e.post("application/json", "["+string(ev)+`,{"session_id":"ok1","data":2}]`)
			if code != http.StatusMultiStatus || res.Accepted != 1 || len(res.Errors) != 1 || res.Errors[0].Index != 0 ||
				!strings.Contains(res.Errors[0].Error, "session id") {
				t.Errorf("%q: %d %+v", id, code, res)
			}
			code, res = e.post("application/json", string(ev))
			if code != 400 || res.Accepted != 0 {
				t.Errorf("%q alone: %d %+v", id, code, res)
			}
			// and derived from the seed payload's event
			ev, _ = json.Marshal(map[string]any{"event": map[string]any{"user_session_id": id}})
			if code, res = e.post("application/json", string(ev)); code != 400 {
				t.Errorf("%q in seed: %d %+v", id, code, res)
			}
		}
		assertNothingOutside(t, e.dir)
	})
	t.Run("too large single event is 413", func(t *testing.T) {
		code, res := e.post("application/json", `{"session_id":"s","data":"`+big+`"}`)
		if code != 413 || res.Errors[0].Code != codeTooLarge {
			t.Fatalf("%d %+v", code, res)
		}
	})
	t.Run("unsupported content type is 415", func(t *testing.T) {
		code, _, _ := e.do("POST", "/v1/events", ingestToken, "multipart/form-data; boundary=x", strings.NewReader("{}"))
		if code != 415 {
			t.Fatalf("%d", code)
		}
	})
	t.Run("empty body is 400", func(t *testing.T) {
		if code, _ := e.post("application/json", "  "); code != 400 {
			t.Fatalf("%d", code)
		}
		if code, _ := e.post("application/x-ndjson", "\n\n"); code != 400 {
			t.Fatalf("%d", code)
		}
	})
	t.Run("unknown members are refused", func(t *testing.T) {
		code, res := e.post("application/json", `{"sesion_id":"s","data":1}`)
		if code != 400 || !strings.Contains(res.Error, "sesion_id") {
			t.Fatalf("%d %+v", code, res)
		}
	})
}

// assertNothingOutside checks that no file was created next to the data
// directory.
func assertNothingOutside(t *testing.T, dir string) {
	t.Helper()
	parent := filepath.Dir(dir)
	ents, _ := os.ReadDir(parent)
	for _, e := range ents {
		if filepath.Join(parent, e.Name()) != dir {
			t.Errorf("unexpected entry %s next to the data directory", e.Name())
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "etc")); err == nil {
		t.Errorf("an etc directory was created in the data directory")
	}
}

// endless yields size bytes of a JSON string body, counting what was read.
type endless struct {
	prefix []byte
	size   int64
	pos    int64        // owned by the reading goroutine
	read   atomic.Int64 // pos, for others
}

func (r *endless) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, fmt.Errorf("endless: exhausted")
	}
	n := 0
	for n < len(p) && r.pos < r.size {
		if r.pos < int64(len(r.prefix)) {
			p[n] = r.prefix[r.pos]
		} else {
			p[n] = 'x'
		}
		n++
		r.pos++
	}
	r.read.Store(r.pos)
	return n, nil
}

func TestHundredMegabyteBodies(t *testing.T) {
	const limit = 1 << 20
	e := newEnv(t, Options{MaxBody: limit, MaxEventSize: 64 << 10})
	const size = 100 << 20
	for _, ct := range []string{"application/json", "application/x-ndjson"} {
		t.Run(ct, func(t *testing.T) {
			body := &endless{prefix: []byte(`{"session_id":"big","data":"`), size: size}
			req, _ := http.NewRequest("POST", e.url+"/v1/events", body)
			req.ContentLength = size
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+ingestToken)
			resp, err := e.client.Do(req)
			if err != nil {
				// The server may close the connection while the client
				// is still writing; the answer must still have been 413.
				t.Logf("client: %v", err)
			} else {
				var res IngestResult
				_ = json.NewDecoder(resp.Body).Decode(&res)
				resp.Body.Close()
				if resp.StatusCode != 413 {
					t.Fatalf("status %d %+v", resp.StatusCode, res)
				}
			}
			// What the client managed to write includes the kernel's socket
			// buffers; it must be a small part of the 100 MB.
			if n := body.read.Load(); n > 24<<20 {
				t.Fatalf("the client wrote %d bytes before the server gave up; the limit is %d", n, limit)
			}
			t.Logf("client wrote %d of %d bytes", body.read.Load(), size)
		})
	}
	// Other events are not lost.
	if code, res := e.post("application/json", `{"session_id":"after","data":1}`); code != 200 {
		t.Fatalf("%d %+v", code, res)
	}
}

func TestSlowHeadersAreCut(t *testing.T) {
	e := newEnv(t, Options{ReadHeaderTimeout: 300 * time.Millisecond})
	c, err := (&netDialer{}).dial(strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: appl")); err != nil {
		t.Fatal(err)
	}
	// The server must close the connection; the generous deadline only
	// keeps a broken server from hanging the test.
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	buf := make([]byte, 4096)
	var got []byte
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				t.Fatal("the server kept a connection whose headers never ended")
			}
			break
		}
	}
	if len(got) > 0 && !bytes.HasPrefix(got, []byte("HTTP/1.1 408")) && !bytes.HasPrefix(got, []byte("HTTP/1.1 400")) {
		t.Fatalf("unexpected answer %q", got)
	}
	// The server still serves. On a loaded machine the follow-up's own
	// headers may arrive after the short timeout too: such an attempt is
	// cut before it is read, and made again.
	for {
		req, _ := http.NewRequest("POST", e.url+"/v1/events", strings.NewReader(`{"session_id":"after","data":1}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ingestToken)
		resp, err := e.client.Do(req)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 == 2 {
				break
			}
			if resp.StatusCode != http.StatusRequestTimeout {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		}
		if t.Context().Err() != nil {
			t.Fatalf("the server never served a request after the slow one: %v", err)
		}
	}
}

func TestBacklogFullIs503(t *testing.T) {
	release := make(chan struct{})
	blocked := transport.NewCallback(func(ctx context.Context, ev *eventgate.Event) error {
		select {
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	e := newEnv(t, Options{BacklogWait: 200 * time.Millisecond},
		eventgate.WithTransport("slow", blocked, eventgate.RouteBacklog(1, eventgate.BacklogBlock)))
	t.Cleanup(func() { close(release) })
	// The first event fills the one-byte backlog; the next must wait, and
	// is answered 503 when the wait ends.
	if code, res := e.post("application/json", `{"session_id":"b","data":1}`); code != 200 {
		t.Fatalf("%d %+v", code, res)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !e.gw.Stats().Routes["slow"].BacklogFull {
		if time.Now().After(deadline) {
			t.Fatal("the route never reported a full backlog")
		}
		time.Sleep(10 * time.Millisecond)
	}
	code, b, h := e.do("POST", "/v1/events", ingestToken, "application/json", strings.NewReader(`{"session_id":"b","data":2}`))
	if code != 503 || h.Get("Retry-After") == "" {
		t.Fatalf("%d %s %v", code, b, h)
	}
}
