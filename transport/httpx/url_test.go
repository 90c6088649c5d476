package httpx

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	t.Setenv("EGTEST_HMAC", "s3cret")
	tests := []struct {
		url  string
		want Config
		err  string
	}{
		{url: "http://127.0.0.1:8080/events", want: Config{URL: "http://127.0.0.1:8080/events"}},
		{url: "https://collector.example/v1/events?timeout=5s&max_conns=16&format=seed",
			want: Config{URL: "https://collector.example/v1/events", Timeout: 5 * time.Second, MaxConnsPerHost: 16}},
		{url: "https://h/e?format=event&name=audit", want: Config{URL: "https://h/e", Format: FormatEvent, Name: "audit"}},
		{url: "https://h/e?hmac_secret_env=EGTEST_HMAC", want: Config{URL: "https://h/e", HMACSecret: []byte("s3cret")}},
		// Parameters of the endpoint itself stay in the URL, untouched when
		// none of ours is present.
		{url: "https://h/e?tenant=a&z=1&b=2", want: Config{URL: "https://h/e?tenant=a&z=1&b=2"}},
		{url: "https://h/e?tenant=a&timeout=1s", want: Config{URL: "https://h/e?tenant=a", Timeout: time.Second}},
		{url: "https://user:pw@h/e#frag", want: Config{URL: "https://user:pw@h/e"}},

		{url: "ftp://h/e", err: "scheme"},
		{url: "h/e", err: "scheme"},
		{url: "http:///e", err: "no host"},
		{url: "http://h/e?timeout=5", err: "timeout"},
		{url: "http://h/e?timeout=0s", err: "timeout"},
		{url: "http://h/e?max_conns=0", err: "max_conns"},
		{url: "http://h/e?max_conns=x", err: "max_conns"},
		{url: "http://h/e?format=xml", err: "format"},
		{url: "http://h/e?hmac_secret_env=EGTEST_NOT_SET_ANYWHERE", err: "not set"},
		{url: "http://h/e?hmac_secret_env=", err: "empty"},
		{url: "http://h/e?a=%zz", err: "query"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q) = %+v, %v; want an error mentioning %q", tt.url, got, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if got.URL != tt.want.URL || got.Timeout != tt.want.Timeout || got.MaxConnsPerHost != tt.want.MaxConnsPerHost ||
				got.Format != tt.want.Format || got.Name != tt.want.Name || string(got.HMACSecret) != string(tt.want.HMACSecret) {
				t.Errorf("ParseURL(%q)\n got  %+v\n want %+v", tt.url, got, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]Config{
		"no URL":          {},
		"relative URL":    {URL: "/events"},
		"bad scheme":      {URL: "ws://h/e"},
		"unknown format":  {URL: "http://h", Format: 9},
		"negative time":   {URL: "http://h", Timeout: -1},
		"negative conns":  {URL: "http://h", MaxConnsPerHost: -1},
		"negative body":   {URL: "http://h", MaxErrorBody: -1},
		"content type":    {URL: "http://h", Headers: http.Header{"content-type": {"text/plain"}}},
		"idempotency key": {URL: "http://h", Headers: http.Header{"Idempotency-Key": {"x"}}},
		"signature":       {URL: "http://h", Headers: http.Header{HeaderSignature: {"x"}}},
	}
	for name, c := range bad {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: Validate(%+v) = nil", name, c)
		}
		if _, err := New(c); err == nil {
			t.Errorf("%s: New accepted an invalid config", name)
		}
	}
	tr, err := New(Config{URL: "http://h/e"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := tr.Config()
	if c.Timeout != DefaultTimeout || c.MaxConnsPerHost != DefaultMaxConnsPerHost || c.MaxErrorBody != DefaultMaxErrorBody ||
		c.Format != FormatSeed || tr.Name() != "http" || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	for _, s := range []string{"seed", "event"} {
		f, err := ParseFormat(s)
		if err != nil || f.String() != s {
			t.Errorf("ParseFormat(%q) = %v, %v", s, f, err)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat accepted xml")
	}
}
