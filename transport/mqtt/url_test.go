package mqtt

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw  string
		want Config
	}{
		{
			"mqtt://127.0.0.1:1883?topic=eventgate/events/{session}&qos=1&client_id=gw-1&timeout=5s",
			Config{Broker: "tcp://127.0.0.1:1883", Topic: "eventgate/events/{session}", QoS: QoS1, ClientID: "gw-1", Timeout: 5 * time.Second},
		},
		{"mqtt://broker", Config{Broker: "tcp://broker:1883"}},
		{"tcp://h:1884?qos=0&retain=true", Config{Broker: "tcp://h:1884", QoS: QoS0, Retain: true}},
		{"mqtts://u:p%40ss@h?qos=2", Config{Broker: "ssl://h:8883", Username: "u", Password: "p@ss", QoS: QoS2}},
		{"ssl://h:9999", Config{Broker: "ssl://h:9999"}},
		{"wss://h/mqtt", Config{Broker: "wss://h:443/mqtt"}},
		{"mqtt://[::1]:1883", Config{Broker: "tcp://[::1]:1883"}},
		{
			"mqtt://h?name=edge&connect_timeout=2s&reconnect_wait=100ms&keepalive=10s&max_message_size=1048576&timeout=0",
			Config{Broker: "tcp://h:1883", Name: "edge", ConnectTimeout: 2 * time.Second, ReconnectWait: 100 * time.Millisecond,
				KeepAlive: 10 * time.Second, MaxMessageSize: 1 << 20, Timeout: -1},
		},
		{"mqtt://h?topic=a%2F%7Btype%7D%2F%7Bsession%7D", Config{Broker: "tcp://h:1883", Topic: "a/{type}/{session}"}},
	}
	for _, c := range cases {
		got, err := ParseURL(c.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.raw, err)
			continue
		}
		if got != c.want {
			t.Errorf("ParseURL(%q):\n got %+v\nwant %+v", c.raw, got, c.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	cases := []struct{ raw, wantErr string }{
		{"http://h", "scheme"},
		{"mqtt://", "no host"},
		{"mqtt://h?qos=3", "qos"},
		{"mqtt://h?retain=maybe", "retain"},
		{"mqtt://h?timeout=soon", "timeout"},
		{"mqtt://h?keepalive=-1s", "keepalive"},
		{"mqtt://h?max_message_size=0", "max_message_size"},
		{"mqtt://h?max_message_size=300000000", "MaxMessageSize"},
		{"mqtt://h?topic=a/%2B/b", "not allowed"},
		{"mqtt://h?topic=a/{sess}", "placeholder"},
		{"mqtt://h?qso=1", "unknown URL parameter"},
		{"mqtt://u:secret@h?qos=9", "qos"},
	}
	for _, c := range cases {
		_, err := ParseURL(c.raw)
		if err == nil {
			t.Errorf("ParseURL(%q): got nil error, want one mentioning %q", c.raw, c.wantErr)
			continue
		}
		if !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseURL(%q): %v; want it to mention %q", c.raw, err, c.wantErr)
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("ParseURL(%q): error shows the password: %v", c.raw, err)
		}
	}
}

func TestNewDefaults(t *testing.T) {
	a, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := a.cfg
	if c.Broker != DefaultBroker || c.Topic != DefaultTopic || c.QoS != QoS1 || c.Name != DefaultName ||
		c.Timeout != DefaultTimeout || c.ConnectTimeout != DefaultConnectTimeout || c.ReconnectWait != DefaultReconnectWait ||
		c.KeepAlive != DefaultKeepAlive || c.MaxMessageSize != DefaultMaxMessageSize || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
	if !strings.HasPrefix(a.ClientID(), DefaultClientIDPrefix) || a.ClientID() == b.ClientID() {
		t.Errorf("client ids %q and %q: want distinct ids with the default prefix", a.ClientID(), b.ClientID())
	}
	if a.Name() != "mqtt" {
		t.Errorf("Name() = %q", a.Name())
	}
	for _, tr := range []*Transport{a, b} {
		if err := tr.Close(); err != nil {
			t.Errorf("Close of an unused transport: %v", err)
		}
	}
	if _, err := New(Config{Broker: "tcp://u:p@h:1883"}); err == nil {
		t.Error("credentials inside Config.Broker were accepted")
	}
	if _, err := New(Config{QoS: 4}); err == nil {
		t.Error("QoS 4 was accepted")
	}
}
