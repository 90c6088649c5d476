package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
)

const (
	ingestToken = "ingest-token-0123456789"
	readToken   = "read-token-0123456789ab"
	adminToken  = "admin-token-0123456789a"
)

type env struct {
	t      *testing.T
	gw     *eventgate.Gateway
	srv    *Server
	hs     *http.Server
	url    string
	client *http.Client
	dir    string
}

// newEnv starts a Gateway on a temporary directory and the server on a
// loopback port, with one token per scope.
func newEnv(t *testing.T, opts Options, gwOpts ...eventgate.Option) *env {
	t.Helper()
	dir := t.TempDir()
	gw, err := eventgate.Open(dir, gwOpts...)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Tokens == nil && !opts.NoAuth {
		opts.Tokens = []Token{
			mustToken(t, "ingest", ingestToken, ScopeIngest),
			mustToken(t, "read", readToken, ScopeRead),
			mustToken(t, "admin", adminToken, ScopeAdmin),
		}
	}
	srv, err := New(gw, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = hs.Serve(ln) }()
	e := &env{t: t, gw: gw, srv: srv, hs: hs, url: "http://" + ln.Addr().String(), dir: dir,
		client: &http.Client{Transport: &http.Transport{}, Timeout: 60 * time.Second}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-done
		e.client.CloseIdleConnections()
		if err := gw.Close(ctx); err != nil {
			t.Errorf("gateway close: %v", err)
		}
	})
	return e
}

func mustToken(t *testing.T, name, secret string, scopes ...Scope) Token {
	t.Helper()
	tok, err := NewToken(name, secret, scopes...)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// do sends a request and returns the status and body.
func (e *env) do(method, path, token, contentType string, body io.Reader) (int, []byte, http.Header) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b, resp.Header
}

func (e *env) post(ct, body string) (int, IngestResult) {
	e.t.Helper()
	code, b, _ := e.do("POST", "/v1/events", ingestToken, ct, strings.NewReader(body))
	var res IngestResult
	if err := json.Unmarshal(b, &res); err != nil {
		e.t.Fatalf("ingest answer %d is not JSON: %q", code, b)
	}
	return code, res
}

func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.gw.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// events reads a session's events through the API.
func (e *env) events(session, query string) []map[string]json.RawMessage {
	e.t.Helper()
	code, b, _ := e.do("GET", "/v1/sessions/"+session+"/events"+query, readToken, "", nil)
	if code != http.StatusOK {
		e.t.Fatalf("events %s: %d %s", session, code, b)
	}
	var page struct {
		Events []map[string]json.RawMessage `json:"events"`
	}
	if err := json.Unmarshal(b, &page); err != nil {
		e.t.Fatal(err)
	}
	return page.Events
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

func compact(s string) string {
	var b bytes.Buffer
	_ = json.Compact(&b, []byte(s))
	return b.String()
}
