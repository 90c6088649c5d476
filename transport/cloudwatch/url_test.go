package cloudwatch

import (
	"strings"
	"testing"
	"time"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw     string
		want    Config
		wantErr string
	}{
		{raw: "cloudwatch://agents/gateway-1", want: Config{LogGroup: "agents", LogStream: "gateway-1"}},
		{raw: "cloudwatch://?group=/aws/agents/prod&stream=gw-1&region=eu-west-1",
			want: Config{LogGroup: "/aws/agents/prod", LogStream: "gw-1", Region: "eu-west-1"}},
		{raw: "cloudwatch://app.logs/s?stream_unused=1", wantErr: "unknown parameter"},
		{raw: "cloudwatch://g/s?endpoint=http://127.0.0.1:4566&create=true&max_attempts=4&timeout=2s&max_event_bytes=1048550&name=cw",
			want: Config{LogGroup: "g", LogStream: "s", Endpoint: "http://127.0.0.1:4566", Create: true, MaxAttempts: 4, RequestTimeout: 2 * time.Second, MaxEventBytes: 1048550, Name: "cw"}},
		{raw: "cloudwatch://g?stream=" + "a%2Fb", want: Config{LogGroup: "g", LogStream: "a/b"}},
		{raw: "cloudwatch://?group=%2Fa%23b&stream=s", want: Config{LogGroup: "/a#b", LogStream: "s"}},
		{raw: "cloudwatch://g", wantErr: "log stream is required"},
		{raw: "cloudwatch:///s", wantErr: "log group is required"},
		{raw: "cloudwatch://g/s?group=h", wantErr: "as host and as parameter"},
		{raw: "cloudwatch://g/s?stream=t", wantErr: "as path and as parameter"},
		{raw: "cloudwatch://g/a:b", wantErr: "without ':'"},
		{raw: "cloudwatch://g/s?max_event_bytes=2000000", wantErr: "max event bytes"},
		{raw: "cloudwatch://g/s?create=perhaps", wantErr: "create"},
		{raw: "cloudwatch://k:s@g/s", wantErr: "credentials"},
		{raw: "sqs://g/s", wantErr: "scheme"},
		{raw: "cloudwatch://g/s?endpoint=localhost", wantErr: "endpoint"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := ParseURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseURL(%q) error = %v; want one containing %q", tt.raw, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURL(%q): %v", tt.raw, err)
			}
			if got != tt.want {
				t.Errorf("ParseURL(%q) =\n%+v\nwant\n%+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	tr, err := New(Config{LogGroup: "g", LogStream: "s"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := tr.cfg
	if c.Name != "cloudwatch" || tr.Name() != "cloudwatch" || c.MaxAttempts != 1 || c.RequestTimeout != DefaultRequestTimeout ||
		c.MaxEventBytes != 262118 || c.Logger == nil {
		t.Errorf("defaults not applied: %+v", c)
	}
}
