package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// signalBuffer is a buffer that cancels a context once it holds want.
type signalBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	want   string
	cancel context.CancelFunc
}

func (s *signalBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := s.b.Write(p)
	if s.want != "" && strings.Contains(s.b.String(), s.want) {
		s.cancel()
	}
	return n, err
}

func (s *signalBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestMistakes runs the command lines a new user gets wrong and checks that
// each answers with its exit status and a message saying what is wrong and
// what to do.
func TestMistakes(t *testing.T) {
	for _, k := range []string{"EVENTGATE_CONFIG", "EVENTGATE_DIR", "AGENT_LOG_DIR", "EVENTGATE_TOKENS", "EVENTGATE_TOKEN", "EVENTGATE_SERVER"} {
		t.Setenv(k, "")
	}
	cfgDir := t.TempDir()
	writeCfg := func(name, body string) string {
		p := filepath.Join(cfgDir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	negBatch := writeCfg("neg.yaml", "transports:\n  - name: r\n    url: 'null://'\n    route: {batch: {max_events: -5}}\n")
	negLimit := writeCfg("limit.yaml", "limits: {max_concurrent: -1}\n")
	needsTokens := writeCfg("tokens.yaml", "auth:\n  tokens: [{name: ops, token_env: EVENTGATE_UNSET_TOKEN_VAR, scopes: [read]}]\n"+
		"transports:\n  - name: n\n    url: 'null://'\n")

	// A server that wants a token, as `eventgate serve` does.
	const goodToken = "mistakes-0123456789abcdef"
	authSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.Header.Get("Authorization") {
		case "":
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"a bearer token is required"}`))
		case "Bearer " + goodToken:
			_, _ = w.Write([]byte(`{"sessions":[],"total":0}`))
		default:
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":"the bearer token is not valid"}`))
		}
	}))
	defer authSrv.Close()

	for _, tc := range []struct {
		name     string
		env      map[string]string
		args     []string
		stdin    string
		code     int
		stdout   []string // each must appear on standard output
		stderr   []string // each must appear on standard error
		untilErr string   // for commands that wait: stop them once stderr holds this
	}{
		{name: "events without a session", args: []string{"events"}, code: 2,
			stderr: []string{"events needs a session id", "eventgate events <session>", "`eventgate sessions` lists them"}},
		{name: "events of a missing session", args: []string{"events", "nosuch"}, code: 1,
			stderr: []string{`no session "nosuch"`, "`eventgate sessions`"}},
		{name: "events in an unknown format", args: []string{"events", "demo", "-o", "json"}, code: 2,
			stderr: []string{`--output "json" is not a format`, "-o ndjson", "-o table"}},
		{name: "tail without a session", args: []string{"tail"}, code: 2, stderr: []string{"tail needs a session id"}},
		{name: "tail of a missing session", args: []string{"tail", "nosuch"}, code: 1, stderr: []string{`no session "nosuch"`}},
		{name: "tail -f of a missing session says it waits", args: []string{"tail", "-f", "nosuch"}, code: 0,
			stderr:   []string{`no session "nosuch" yet; waiting for its first event`, "Ctrl-C"},
			untilErr: "waiting for its first event"},
		{name: "replay of a missing session", args: []string{"replay", "--to", "null://", "--session", "nosuch"}, code: 1,
			stderr: []string{`no session "nosuch"`, "nothing replayed", "`eventgate sessions`"}},
		{name: "replay to an unreachable redis", args: []string{"replay", "--to", "redis://127.0.0.1:1/0", "--timeout", "5s"}, code: 1,
			stderr: []string{"eventgate: cannot connect to redis://127.0.0.1:1/0 (is it running and reachable?)"}},
		{name: "--version", args: []string{"--version"}, code: 0, stdout: []string{"eventgate "}},
		{name: "version", args: []string{"version"}, code: 0, stdout: []string{"eventgate "}},
		{name: "negative batch size", args: []string{"check", "-c", negBatch}, code: 2,
			stderr: []string{"transports[0] (r): route.batch.max_events: -5 is negative"}},
		{name: "negative limit", args: []string{"check", "-c", negLimit}, code: 2,
			stderr: []string{"limits.max_concurrent: -1 is negative"}},
		{name: "check without the server's tokens", args: []string{"check", "-c", needsTokens}, code: 0,
			stdout: []string{"configuration ok", "serve will refuse to start", "EVENTGATE_UNSET_TOKEN_VAR", "ok  n"}},
		{name: "routes list without the server's tokens", args: []string{"routes", "list", "-c", needsTokens}, code: 0,
			stdout: []string{"n      configured  0"}, stderr: []string{"nothing recorded in"}},
		{name: "dlq list without the server's tokens", args: []string{"dlq", "list", "n", "-c", needsTokens}, code: 0,
			stdout: []string{"0 dead letters"}},
		{name: "replay without --to", args: []string{"replay", "--session", "demo"}, code: 2,
			stderr: []string{"replay needs --to", "--to redis://127.0.0.1:6379/0", "the name of a transport"}},
		{name: "an unknown flag", args: []string{"events", "demo", "--frobnicate"}, code: 2,
			stderr: []string{"unknown flag: --frobnicate", "`eventgate events --help` lists the flags"}},
		{name: "a 401 without a token names $EVENTGATE_TOKEN", args: []string{"sessions", "--server", authSrv.URL}, code: 1,
			stderr: []string{"server answered 401", "no token was sent", "export EVENTGATE_TOKEN=<secret>", "--token"}},
		{name: "a 401 for $EVENTGATE_TOKEN says where the token came from", env: map[string]string{"EVENTGATE_TOKEN": "not-the-right-one-0123"},
			args: []string{"sessions", "--server", authSrv.URL}, code: 1,
			stderr: []string{"server answered 401", "the token from $EVENTGATE_TOKEN is not one the server accepts"}},
		{name: "a 401 for the server's own list says so", env: map[string]string{"EVENTGATE_TOKENS": "not-the-right-one-0123:read"},
			args: []string{"events", "s1", "--server", authSrv.URL}, code: 1,
			stderr: []string{"the token from the first secret of $EVENTGATE_TOKENS is not one"}},
		{name: "--token wins over $EVENTGATE_TOKEN", env: map[string]string{"EVENTGATE_TOKEN": "not-the-right-one-0123"},
			args: []string{"sessions", "--server", authSrv.URL, "--token", goodToken}, code: 0},
		{name: "server not running", args: []string{"sessions", "--server", "http://127.0.0.1:1"}, code: 1,
			stderr: []string{"cannot reach the server at http://127.0.0.1:1", "is `eventgate serve` running"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			dir := filepath.Join(t.TempDir(), "data")
			t.Chdir(t.TempDir())
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout bytes.Buffer
			stderr := &signalBuffer{want: tc.untilErr, cancel: cancel}
			args := append([]string{"--dir", dir}, tc.args...)
			code := run(ctx, cancel, args, strings.NewReader(tc.stdin), &stdout, stderr)
			if code != tc.code {
				t.Errorf("exit status %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, stdout.String(), stderr.String())
			}
			for _, w := range tc.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
			if strings.Count(stderr.String(), "eventgate:") > strings.Count(stderr.String(), "\n") {
				t.Errorf("more than one prefix on a line:\n%s", stderr.String())
			}
			if strings.Contains(stderr.String(), "pool.go") {
				t.Errorf("a client library wrote to stderr:\n%s", stderr.String())
			}
			if _, err := os.Stat(dir); err == nil { // none of these commands writes
				t.Errorf("the data directory %s was created", dir)
			}
		})
	}
}
