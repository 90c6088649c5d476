package kafka

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want func(c Config) string // returns "" when c is as expected
		err  string                // substring of the expected error
	}{
		{
			name: "full",
			url:  "kafka://h1:9092,h2:9093/events?client_id=svc&acks=all&compression=zstd&linger=5ms&max_record_bytes=2000000&timeout=3s&close_timeout=4s&auto_create=true&name=kf",
			want: func(c Config) string {
				switch {
				case strings.Join(c.Brokers, " ") != "h1:9092 h2:9093":
					return "brokers " + strings.Join(c.Brokers, " ")
				case c.Topic != "events", c.ClientID != "svc", c.Acks != "all", c.Compression != "zstd":
					return "topic/client/acks/compression"
				case c.Linger != 5*time.Millisecond, c.MaxRecordBytes != 2_000_000, c.Timeout != 3*time.Second, c.CloseTimeout != 4*time.Second:
					return "durations or sizes"
				case !c.AutoCreateTopics, c.Name != "kf", c.TLS != nil:
					return "auto_create/name/tls"
				}
				return ""
			},
		},
		{
			name: "default port and template path",
			url:  "kafka://b1,b2/agent.{session}.{type}",
			want: func(c Config) string {
				if strings.Join(c.Brokers, " ") != "b1:9092 b2:9092" || c.Topic != "agent.{session}.{type}" {
					return "got " + strings.Join(c.Brokers, " ") + " " + c.Topic
				}
				return ""
			},
		},
		{
			name: "percent-encoded template",
			url:  "kafka://b1/agent.%7Bsession%7D",
			want: func(c Config) string {
				if c.Topic != "agent.{session}" {
					return "topic " + c.Topic
				}
				return ""
			},
		},
		{
			name: "kafkas with sasl credentials",
			url:  "kafkas://alice:s%40cret@b1:9093/t?sasl=scram-sha-512",
			want: func(c Config) string {
				if c.TLS == nil || c.Username != "alice" || c.Password != "s@cret" || c.SASL != "scram-sha-512" {
					return "tls/sasl not set"
				}
				return ""
			},
		},
		{
			name: "tls parameter",
			url:  "kafka://b1/t?tls=true",
			want: func(c Config) string {
				if c.TLS == nil {
					return "tls not set"
				}
				return ""
			},
		},
		{name: "wrong scheme", url: "amqp://b1/t", err: "scheme"},
		{name: "no brokers", url: "kafka:///t", err: "no brokers"},
		{name: "empty broker", url: "kafka://b1,,b2/t", err: "empty broker"},
		{name: "unknown parameter", url: "kafka://b1/t?lingr=5ms", err: `unknown url parameter "lingr"`},
		{name: "bad duration", url: "kafka://b1/t?timeout=soon", err: "timeout"},
		{name: "bad size", url: "kafka://b1/t?max_record_bytes=big", err: "max_record_bytes"},
		{name: "size overflow", url: "kafka://b1/t?max_record_bytes=99999999999", err: "max_record_bytes"},
		{name: "repeated parameter", url: "kafka://b1/t?acks=all&acks=all", err: "given 2 times"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseURL(tt.url)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseURL(%q) error = %v, want one containing %q", tt.url, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.url, err)
			}
			if msg := tt.want(c); msg != "" {
				t.Fatalf("ParseURL(%q): %s (config %+v)", tt.url, msg, c)
			}
		})
	}
}

func TestParseURLRedactsPassword(t *testing.T) {
	_, err := ParseURL("kafka://alice:topsecret@/t")
	if err == nil || strings.Contains(err.Error(), "topsecret") {
		t.Fatalf("error %v: want an error that hides the password", err)
	}
}

func TestValidate(t *testing.T) {
	ok := Config{Brokers: []string{"b:9092"}, Topic: "events"}
	tests := []struct {
		name string
		mod  func(*Config)
		err  string // "" = valid
	}{
		{"minimal", func(*Config) {}, ""},
		{"template", func(c *Config) { c.Topic = "ev.{session}-{type}" }, ""},
		{"acks -1", func(c *Config) { c.Acks = "-1" }, ""},
		{"every codec", func(c *Config) { c.Compression = "lz4" }, ""},
		{"sasl plain implied", func(c *Config) { c.Username = "u" }, ""},
		{"no brokers", func(c *Config) { c.Brokers = nil }, "no brokers"},
		{"blank broker", func(c *Config) { c.Brokers = []string{" "} }, "empty broker"},
		{"no topic", func(c *Config) { c.Topic = "" }, "no topic"},
		{"bad topic char", func(c *Config) { c.Topic = "a/b" }, "not allowed"},
		{"unknown placeholder", func(c *Config) { c.Topic = "ev.{user}" }, "unknown placeholder"},
		{"dot topic", func(c *Config) { c.Topic = ".." }, "not a legal topic"},
		{"long topic", func(c *Config) { c.Topic = strings.Repeat("t", 250) }, "longer than"},
		{"acks leader", func(c *Config) { c.Acks = "1" }, "only \"all\""},
		{"bad codec", func(c *Config) { c.Compression = "brotli" }, "compression"},
		{"negative linger", func(c *Config) { c.Linger = -1 }, "negative linger"},
		{"negative timeout", func(c *Config) { c.Timeout = -1 }, "negative timeout"},
		{"negative size", func(c *Config) { c.MaxRecordBytes = -1 }, "negative max record bytes"},
		{"bad sasl", func(c *Config) { c.SASL = "kerberos"; c.Username = "u" }, "sasl"},
		{"sasl without user", func(c *Config) { c.SASL = "plain" }, "without a username"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mod(&c)
			err := c.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				if _, err := New(c); err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate error = %v, want one containing %q", err, tt.err)
			}
			if _, err := New(c); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{Brokers: []string{"b:9092"}, Topic: "t"}.withDefaults()
	if c.Name != "kafka" || c.ClientID != "eventgate" || c.Acks != "all" || c.Compression != "snappy" ||
		c.MaxRecordBytes != 1_000_012 || c.Timeout != 30*time.Second || c.CloseTimeout != 30*time.Second || c.Linger != 0 {
		t.Fatalf("defaults: %+v", c)
	}
	tr, err := New(Config{Brokers: []string{"b:9092"}, Topic: "t", Name: "events-bus"})
	if err != nil {
		t.Fatal(err)
	}
	if tr.Name() != "events-bus" {
		t.Fatalf("Name() = %q", tr.Name())
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("Close of an unused transport: %v", err)
	}
}
