package redisstream

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Setenv("EGTEST_REDIS_PW", "s3cret")
	tests := []struct {
		url  string
		want Config
		tls  bool
		err  string // substring of the error; empty = success
	}{
		{url: "redis://127.0.0.1:6379", want: Config{Addr: "127.0.0.1:6379"}},
		{url: "redis://localhost", want: Config{Addr: "localhost:6379"}},
		{url: "redis://", want: Config{Addr: "127.0.0.1:6379"}},
		{url: "redis://h:7000/3", want: Config{Addr: "h:7000", DB: 3}},
		{url: "redis://user:pa%40ss@h:1/0", want: Config{Addr: "h:1", Username: "user", Password: "pa@ss"}},
		{url: "redis://:pw@h", want: Config{Addr: "h:6379", Password: "pw"}},
		{url: "redis://[::1]:6380", want: Config{Addr: "[::1]:6380"}},
		{url: "redis://h?stream=agent_events&maxlen=10000&approx=true&timeout=5s",
			want: Config{Addr: "h:6379", Stream: "agent_events", MaxLen: 10000, Timeout: 5 * time.Second}},
		{url: "redis://h?stream=events:{session}", want: Config{Addr: "h:6379", Stream: "events:{session}"}},
		{url: "redis://h?maxlen=0", want: Config{Addr: "h:6379", MaxLen: NoTrim}},
		{url: "redis://h?maxlen=none", want: Config{Addr: "h:6379", MaxLen: NoTrim}},
		{url: "redis://h?maxlen=5&approx=false", want: Config{Addr: "h:6379", MaxLen: 5, ExactTrim: true}},
		{url: "redis://h?pool_size=4&max_retries=0&client_name=svc&name=redis-a",
			want: Config{Addr: "h:6379", PoolSize: 4, MaxRetries: -1, ClientName: "svc", Name: "redis-a"}},
		{url: "redis://h?max_retries=none", want: Config{Addr: "h:6379", MaxRetries: -1}},
		{url: "redis://h?max_retries=7", want: Config{Addr: "h:6379", MaxRetries: 7}},
		{url: "redis://h?password_env=EGTEST_REDIS_PW", want: Config{Addr: "h:6379", Password: "s3cret"}},
		{url: "rediss://cache.example:6380/1", want: Config{Addr: "cache.example:6380", DB: 1}, tls: true},

		{url: "http://h", err: "scheme"},
		{url: "redis:h", err: "no host"},
		{url: "redis://h/x", err: "database"},
		{url: "redis://h/-1", err: "database"},
		{url: "redis://h?maxlen=-3", err: "maxlen"},
		{url: "redis://h?maxlen=lots", err: "maxlen"},
		{url: "redis://h?approx=maybe", err: "approx"},
		{url: "redis://h?timeout=5", err: "timeout"},
		{url: "redis://h?timeout=-1s", err: "timeout"},
		{url: "redis://h?pool_size=0", err: "pool_size"},
		{url: "redis://h?max_retries=-2", err: "max_retries"},
		{url: "redis://h?stream=", err: "stream"},
		{url: "redis://h?stream={session}", err: "placeholder"},
		{url: "redis://h?client_name=a%20b", err: "client name"},
		{url: "redis://h?password_env=EGTEST_NOT_SET_ANYWHERE", err: "not set"},
		{url: "redis://h?maxlength=5", err: "unknown parameter"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.err != "" {
				if err == nil {
					t.Fatalf("ParseURL(%q) = %+v, want an error containing %q", tt.url, got, tt.err)
				}
				if !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q) error %q does not mention %q", tt.url, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if (got.TLSConfig != nil) != tt.tls {
				t.Fatalf("ParseURL(%q) TLS = %v, want %v", tt.url, got.TLSConfig != nil, tt.tls)
			}
			if tt.tls && got.TLSConfig.ServerName != strings.Split(tt.want.Addr, ":")[0] {
				t.Errorf("TLS server name %q, want the host of %q", got.TLSConfig.ServerName, tt.want.Addr)
			}
			got.TLSConfig = nil
			if got != tt.want {
				t.Errorf("ParseURL(%q)\n got  %+v\n want %+v", tt.url, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]Config{
		"addr without port": {Addr: "localhost"},
		"addr without host": {Addr: ":6379"},
		"negative db":       {DB: -1},
		"negative timeout":  {Timeout: -time.Second},
		"negative pool":     {PoolSize: -1},
		"spaced stream":     {Stream: " s"},
		"bare placeholder":  {Stream: SessionPlaceholder},
		"spaced name":       {ClientName: "a b"},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v) = nil, want an error", name, c)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted an invalid config", name)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Errorf("zero Config: %v", err)
	}
}

func TestDefaults(t *testing.T) {
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := tr.Config()
	if c.Addr != DefaultAddr || c.Stream != DefaultStream || c.MaxLen != DefaultMaxLen || c.ExactTrim ||
		c.Timeout != DefaultTimeout || c.ClientName != DefaultClientName || c.MaxRetries != DefaultMaxRetries {
		t.Errorf("defaults not applied: %+v", c)
	}
	if tr.Name() != "redis" {
		t.Errorf("Name() = %q, want redis", tr.Name())
	}
	if c.Logger == nil {
		t.Error("no default logger")
	}
}

func TestStreamFor(t *testing.T) {
	tests := []struct{ stream, session, want string }{
		{"", "s1", "agent_events"},
		{"events", "s1", "events"},
		{"events:{session}", "s1", "events:s1"},
		{"{session}:events:{session}", "a b", "a b:events:a b"},
	}
	for _, tt := range tests {
		if got := (Config{Stream: tt.stream}).StreamFor(tt.session); got != tt.want {
			t.Errorf("StreamFor(%q, %q) = %q, want %q", tt.stream, tt.session, got, tt.want)
		}
	}
}
