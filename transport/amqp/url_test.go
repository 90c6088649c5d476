package amqp

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want func(c Config) string // "" when c is as expected
		err  string
	}{
		{
			name: "brief form",
			url:  "amqp://guest:guest@127.0.0.1:5672/?exchange=events&exchange_type=topic&routing_key=session.{session}&declare=true&mandatory=true&timeout=5s",
			want: func(c Config) string {
				switch {
				case c.URL != "amqp://guest:guest@127.0.0.1:5672/":
					return "url " + c.URL
				case c.Exchange != "events", c.ExchangeType != "topic", c.RoutingKey != "session.{session}":
					return "exchange/type/key"
				case !c.Declare, c.DropUnroutable, c.ExchangeTransient, c.Timeout != 5*time.Second:
					return "declare/mandatory/durable/timeout"
				}
				return ""
			},
		},
		{
			name: "every parameter, vhost and pass-through",
			url:  "amqps://u:p%40ss@mq.example:5671/prod?heartbeat=5&exchange=ev.{type}&durable=false&mandatory=false&channels=3&max_message_bytes=1000&connection_name=svc&name=rabbit&routing_key=%7Bsession%7D",
			want: func(c Config) string {
				switch {
				case c.URL != "amqps://u:p%40ss@mq.example:5671/prod?heartbeat=5":
					return "url " + c.URL
				case c.Exchange != "ev.{type}", c.RoutingKey != "{session}":
					return "templates"
				case !c.ExchangeTransient, !c.DropUnroutable, c.Channels != 3, c.MaxMessageBytes != 1000:
					return "flags and sizes"
				case c.ConnectionName != "svc", c.Name != "rabbit":
					return "names"
				}
				if err := c.Validate(); err != nil {
					return "validate: " + err.Error()
				}
				return ""
			},
		},
		{name: "wrong scheme", url: "kafka://h/", err: "scheme"},
		{name: "no host", url: "amqp:///vhost", err: "no host"},
		{name: "unknown parameter", url: "amqp://h/?exchnage=x", err: `unknown url parameter "exchnage"`},
		{name: "bad bool", url: "amqp://h/?declare=maybe", err: "declare"},
		{name: "bad duration", url: "amqp://h/?timeout=10", err: "timeout"},
		{name: "bad int", url: "amqp://h/?channels=many", err: "channels"},
		{name: "repeated", url: "amqp://h/?exchange=a&exchange=b", err: "given 2 times"},
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

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		err  string // "" = valid
	}{
		{"zero value", Config{}, ""},
		{"default exchange with queue", Config{RoutingKey: "events"}, ""},
		{"declared template exchange", Config{Exchange: "ev.{session}", Declare: true, ExchangeType: "direct"}, ""},
		{"plugin exchange type", Config{Exchange: "x", ExchangeType: "x-consistent-hash"}, ""},
		{"bad url", Config{URL: "http://h/"}, "url"},
		{"bad exchange char", Config{Exchange: "a b"}, "not allowed"},
		{"unknown placeholder", Config{RoutingKey: "s.{user}"}, "unknown placeholder"},
		{"long routing key", Config{RoutingKey: strings.Repeat("k", 256)}, "longer than 255"},
		{"bad type", Config{Exchange: "x", ExchangeType: "round-robin"}, "exchange type"},
		{"declare default exchange", Config{Declare: true}, "declare needs an exchange"},
		{"too many channels", Config{Channels: 5000}, "channels"},
		{"negative channels", Config{Channels: -1}, "channels"},
		{"negative timeout", Config{Timeout: -time.Second}, "negative timeout"},
		{"negative size", Config{MaxMessageBytes: -1}, "negative max message bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.err == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				tr, err := New(tt.cfg)
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				_ = tr.Close()
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Fatalf("Validate error = %v, want one containing %q", err, tt.err)
			}
			if _, err := New(tt.cfg); err == nil {
				t.Fatal("New accepted an invalid config")
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c := Config{}.withDefaults()
	if c.Name != "amqp" || c.URL != "amqp://guest:guest@localhost:5672/" || c.ExchangeType != "topic" ||
		c.RoutingKey != "session.{session}" || c.Channels != 8 || c.Timeout != 30*time.Second ||
		c.MaxMessageBytes != 128<<20 || c.ConnectionName != "eventgate" || c.DropUnroutable || c.Declare {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestTemplate(t *testing.T) {
	tests := []struct {
		tmpl         string
		safe         func(byte) bool
		session, typ string
		want         string
	}{
		{"events", exchangeChar, "s", "t", "events"},
		{"ev.{session}", exchangeChar, "user:42 ü", "", "ev.user:42___"},
		{"{type}.{session}", nil, "user 42/ü", "tool.call", "tool.call.user 42/ü"},
		{"a{session}b{session}", nil, "x", "", "axbx"},
	}
	for _, tt := range tests {
		if err := validateTemplate("t", tt.tmpl, tt.safe); err != nil {
			t.Fatalf("validate %q: %v", tt.tmpl, err)
		}
		got := newTemplate(tt.tmpl, tt.safe).expand(testEventST(tt.session, tt.typ))
		if got != tt.want {
			t.Errorf("template %q: got %q, want %q", tt.tmpl, got, tt.want)
		}
	}
}
