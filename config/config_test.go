package config

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "eventgate.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParseIsStrict(t *testing.T) {
	for _, bad := range []string{
		"dri: /tmp\n",
		"transports:\n  - name: a\n    url: null://\n    wrapers: {}\n",
		"auth:\n  tokens:\n    - {name: a, token: x, scope: [read]}\n",
		"limits: {max_body: lots}\n",
		"timeouts: {read: forever}\n",
		"dir: a\n---\ndir: b\n",
	} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestExamplesValidate(t *testing.T) {
	t.Setenv("EVENTGATE_INGEST_TOKEN", "ingest-secret-0123456789")
	t.Setenv("EVENTGATE_OPS_TOKEN", "ops-secret-0123456789abc")
	for _, name := range []string{"redis-postgres.yaml", "local.yaml"} {
		c, err := LoadEnv(filepath.Join("..", "examples", name), env(nil))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if name == "redis-postgres.yaml" {
			if len(c.Transports) != 2 || len(c.ServerTokens()) != 2 || c.Drain() != 15*time.Second {
				t.Errorf("%s: %+v", name, c)
			}
			if _, err := c.Transports[0].routeOptions(); err != nil {
				t.Error(err)
			}
		}
	}
}

func TestEnvWins(t *testing.T) {
	p := writeFile(t, `
dir: /from/file
sync: never
listen: 127.0.0.1:9000
limits: {max_body: 2MiB, max_event_size: 64KiB}
transports:
  - {name: file-route, url: "null://"}
`)
	c, err := LoadEnv(p, env(map[string]string{
		"EVENTGATE_DIR":            "/from/env",
		"AGENT_LOG_DIR":            "/from/agent",
		"EVENTGATE_SYNC":           "interval:100ms",
		"EVENTGATE_TOKENS":         "tok-aaaaaaaaaaaaaaaa:ingest+read, tok+/=bbbbbbbbbbbbbb:admin",
		"EVENTGATE_MAX_BODY":       "4MiB",
		"EVENTGATE_TRANSPORTS":     "a=null://; b=log://?level=debug",
		"EVENTGATE_AUTH_DISABLED":  "false",
		"EVENTGATE_DRAIN_TIMEOUT":  "3s",
		"EVENTGATE_LISTEN":         "127.0.0.1:9100",
		"EVENTGATE_MAX_EVENT_SIZE": "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Dir != "/from/env" || c.Sync != "interval:100ms" || c.Listen != "127.0.0.1:9100" || c.Limits.MaxBody != 4<<20 ||
		c.Limits.MaxEventSize != 64<<10 || c.Drain() != 3*time.Second {
		t.Errorf("%+v", c)
	}
	if p, _ := c.SyncPolicy(); p != eventgate.SyncInterval(100*time.Millisecond) {
		t.Errorf("sync %v", p)
	}
	if len(c.Transports) != 2 || c.Transports[1].Name != "b" || c.Transports[1].URL != "log://?level=debug" {
		t.Errorf("transports %+v", c.Transports)
	}
	toks := c.ServerTokens()
	if len(toks) != 2 || !toks[0].Allows("read") || toks[0].Allows("admin") || !toks[1].Allows("ingest") {
		t.Errorf("tokens %+v", toks)
	}
	// AGENT_LOG_DIR applies when EVENTGATE_DIR does not.
	c, err = LoadEnv(p, env(map[string]string{"AGENT_LOG_DIR": "/from/agent"}))
	if err != nil || c.Dir != "/from/agent" {
		t.Errorf("%v %q", err, c.Dir)
	}
}

func TestValidateErrors(t *testing.T) {
	t.Setenv("EMPTY_TOKEN_VAR", "")
	for body, want := range map[string]string{
		"sync: sometimes\n":    "sync",
		"sync: interval:0s\n":  "sync",
		"listen: 8080\n":       "listen",
		"tls: {cert: a.pem}\n": "tls",
		"log: {level: loud}\n": "log.level",
		"auth: {tokens: [{name: a, token: short, scopes: [read]}]}\n":                           "at least 16",
		"auth: {tokens: [{name: a, token: 0123456789abcdefg, scopes: [root]}]}\n":               "unknown scope",
		"auth: {tokens: [{name: a, token_env: EMPTY_TOKEN_VAR, scopes: [read]}]}\n":             "is empty",
		"auth: {tokens: [{name: a, token: 0123456789abcdefg, token_env: X, scopes: [read]}]}\n": "exactly one",
		"transports: [{name: a, url: 'null://'}, {name: a, url: 'null://'}]\n":                  "used twice",
		"transports: [{name: 'bad name', url: 'null://'}]\n":                                    "name",
		"transports: [{name: a, url: 'gopher://x'}]\n":                                          "not supported",
		"transports: [{name: a}]\n":                                                             "url is required",
		"transports: [{name: a, url: 'redis://127.0.0.1:6379?maxlen=lots'}]\n":                  "url redis://",
		"transports: [{name: a, url: 'file://'}]\n":                                             "no path",
		"transports: [{name: a, url: 'file:///tmp/x?sync=sometimes'}]\n":                        "sync",
		"transports: [{name: a, url: 'null://', route: {backlog: {policy: drop_newest}}}]\n":    "policy",
		"transports: [{name: a, url: 'null://', wrappers: {retry: {jitter: 2}}}]\n":             "jitter",
		"transports: [{name: a, url: 'null://', route: {batch: {max_events: -5}}}]\n":           "route.batch.max_events: -5 is negative",
		"transports: [{name: a, url: 'null://', wrappers: {batch: {max_events: -1}}}]\n":        "wrappers.batch.max_events: -1 is negative",
		"transports: [{name: a, url: 'null://', route: {window: {events: -2}}}]\n":              "route.window.events: -2",
		"transports: [{name: a, url: 'null://', route: {workers: -1}}]\n":                       "route.workers: -1",
		"transports: [{name: a, url: 'null://', wrappers: {breaker: {failures: -3}}}]\n":        "wrappers.breaker.failures: -3",
		"transports: [{name: a, url: 'null://', route: {retry: {multiplier: 0.5}}}]\n":          "route.retry.multiplier",
		"transports: [{name: a, url: 'null://', route: {retry: {initial: 2s, max: 1s}}}]\n":     "route.retry.max: 1s is below initial 2s",
		"limits: {max_concurrent: -1}\n":                                                        "limits.max_concurrent: -1 is negative",
		"limits: {max_streams: -4}\n":                                                           "limits.max_streams: -4",
		"dedup: {max_keys: -1}\n":                                                               "dedup.max_keys: -1",
		"dedup: {window: -1h}\n":                                                                "non-negative duration",
	} {
		_, err := LoadEnv(writeFile(t, body), env(nil))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: err = %v, want %q", body, err, want)
		}
	}
}

func TestUnits(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "64KiB": 64 << 10, "16MiB": 16 << 20, "1 GiB": 1 << 30, "1KB": 1000, "2M": 2 << 20} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "-1", "1.5MiB", "lots", "99999999999TiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if !IsLoopback("127.0.0.1:8080") || !IsLoopback("[::1]:80") || !IsLoopback("localhost:1") || !IsLoopback("127.3.2.1:9") {
		t.Error("loopback not recognised")
	}
	if IsLoopback(":8080") || IsLoopback("0.0.0.0:8080") || IsLoopback("10.0.0.1:80") || IsLoopback("example.com:80") {
		t.Error("non-loopback taken as loopback")
	}
	if got := Redact("redis://user:hunter2@h:6379/0?password=x&stream=s&hmac_secret_env=V"); strings.Contains(got, "hunter2") ||
		!strings.Contains(got, "password=xxxxx") || !strings.Contains(got, "hmac_secret_env=V") {
		t.Errorf("redact: %s", got)
	}
}

func TestOpenDeliversThroughWrappedRoutes(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(t.TempDir(), "out.jsonl")
	p := writeFile(t, `
dir: `+dir+`
transports:
  - name: archive
    url: "file://`+out+`?sync=fsync"
    wrappers:
      timeout: 2s
      breaker: {failures: 3, open_timeout: 1s}
      retry: {max_attempts: 2, initial: 10ms}
      batch: {max_events: 10, linger: 1ms}
    route: {workers: 2, batch: {max_events: 50}, retry: {initial: 10ms, max: 100ms}, backlog: {bytes: 64MiB, policy: block}}
  - name: sink
    url: "null://"
`)
	c, err := LoadEnv(p, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	gw, err := c.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(ctx)
	for i := range 20 {
		if err := gw.Log(ctx, &eventgate.Event{SessionID: "s", Data: []byte(`{"i":` + string(rune('a'+i)) + `}`)}); err == nil {
			t.Fatal("invalid JSON data was accepted")
		}
		if err := gw.Log(ctx, &eventgate.Event{SessionID: "s", Type: "t", Data: []byte(`{"i":1}`)}); err != nil {
			t.Fatal(err)
		}
	}
	fctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := gw.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	st := gw.Stats()
	if st.Routes["archive"].Delivered != 20 || st.Routes["sink"].Delivered != 20 {
		t.Errorf("delivered %+v", st.Routes)
	}
	if st.Routes["archive"].BreakerState != "closed" {
		t.Errorf("breaker state %q", st.Routes["archive"].BreakerState)
	}
	b, _ := os.ReadFile(out)
	if n := strings.Count(string(b), "\n"); n != 20 {
		t.Errorf("the file transport holds %d lines", n)
	}
}

func TestCheck(t *testing.T) {
	redis := testutil.Service(t, "Redis", "EVENTGATE_REDIS_ADDR", "127.0.0.1:6379")
	c := &Config{Transports: []Transport{
		{Name: "sink", URL: "null://"},
		{Name: "redis", URL: "redis://" + redis + "/0?stream=eventgate_check"},
		{Name: "dead", URL: "redis://127.0.0.1:1/0"},
		{Name: "deadhttp", URL: "http://127.0.0.1:1/v1/events"},
	}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), 3*time.Second)
	if err == nil {
		t.Fatal("Check passed with an unreachable transport")
	}
	if len(res) != 4 {
		t.Fatalf("%d results", len(res))
	}
	if res[0].Err != nil || res[1].Err != nil {
		t.Errorf("reachable transports failed: %v / %v", res[0].Err, res[1].Err)
	}
	if res[2].Err == nil || !errors.Is(res[2].Err, eventgate.ErrConnection) {
		t.Errorf("dead redis: %v", res[2].Err)
	}
	t.Logf("deadhttp: %v", res[3].Err)
}

func TestCheckPostgres(t *testing.T) {
	pg := testutil.Service(t, "PostgreSQL", "EVENTGATE_POSTGRES_ADDR", "127.0.0.1:5432")
	// Reached, but the table is missing: Check reports it as a rejection.
	c := &Config{Transports: []Transport{{Name: "pg", URL: "postgres://postgres@" + pg + "/test?table=eventgate_check_missing"}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	res, err := c.Check(context.Background(), 5*time.Second)
	if err == nil || !errors.Is(res[0].Err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("%v %+v", err, res)
	}
}

// The commands that do not serve HTTP load the configuration without its
// tokens: an unset token variable or a short secret does not stop them, and
// the full Validate still refuses both.
func TestLoadLocalIgnoresTokens(t *testing.T) {
	t.Setenv("EMPTY_TOKEN_VAR", "")
	for _, body := range []string{
		"auth: {tokens: [{name: a, token_env: EMPTY_TOKEN_VAR, scopes: [read]}]}\n",
		"auth: {tokens: [{name: a, token: short, scopes: [read]}]}\n",
	} {
		p := writeFile(t, body)
		c, err := LoadLocalEnv(p, env(nil))
		if err != nil {
			t.Fatalf("%q: LoadLocalEnv: %v", body, err)
		}
		if n := len(c.ServerTokens()); n != 0 {
			t.Errorf("%q: %d tokens resolved", body, n)
		}
		if err := c.ResolveTokens(); err == nil {
			t.Errorf("%q: ResolveTokens accepted it", body)
		}
		if _, err := LoadEnv(p, env(nil)); err == nil {
			t.Errorf("%q: LoadEnv accepted it", body)
		}
	}
	// The other fields are still checked.
	if _, err := LoadLocalEnv(writeFile(t, "limits: {max_concurrent: -1}\n"), env(nil)); err == nil {
		t.Error("LoadLocalEnv accepted a negative limit")
	}
}

func TestDedupSection(t *testing.T) {
	ctx := context.Background()
	for body, want := range map[string]eventgate.DedupStats{
		"":                                   {Enabled: true},
		"dedup: {window: 1h, max_keys: 2}\n": {Enabled: true, Evicted: 1},
		"dedup: {disabled: true}\n":          {},
	} {
		c, err := LoadEnv(writeFile(t, "dir: "+t.TempDir()+"\n"+body), env(nil))
		if err != nil {
			t.Fatal(err)
		}
		gw, err := c.Open(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{"a", "b", "c", "c"} {
			if err := gw.Log(ctx, &eventgate.Event{ID: id, SessionID: "s", Data: []byte("1")}); err != nil {
				t.Fatal(err)
			}
		}
		st := gw.Stats()
		if err := gw.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if st.Dedup.Enabled != want.Enabled || st.Dedup.Evicted != want.Evicted {
			t.Errorf("%q: dedup stats %+v, want %+v", body, st.Dedup, want)
		}
		logged := uint64(3)
		if !want.Enabled {
			logged = 4
		}
		if st.Logged != logged {
			t.Errorf("%q: logged %d, want %d", body, st.Logged, logged)
		}
	}
}
