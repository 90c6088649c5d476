package gcplogging

import (
	"reflect"
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
		{raw: "gcplogging://my-project/agent-events", want: Config{ProjectID: "my-project", LogID: "agent-events"}},
		{raw: "gcplogging://my-project/agents/prod/events", want: Config{ProjectID: "my-project", LogID: "agents/prod/events"}},
		{raw: "gcplogging://p/l?endpoint=127.0.0.1:8085&insecure=true&retries=true&timeout=3s&reconnect_max_delay=2s&name=gcp",
			want: Config{ProjectID: "p", LogID: "l", Endpoint: "127.0.0.1:8085", Insecure: true, ClientRetries: true, RequestTimeout: 3 * time.Second, ReconnectMaxDelay: 2 * time.Second, Name: "gcp"}},
		{raw: "gcplogging://p/l?severity.tool_error=error&severity.audit=NOTICE&default_severity=debug",
			want: Config{ProjectID: "p", LogID: "l", Severities: map[string]string{"tool_error": "error", "audit": "NOTICE"}, DefaultSeverity: "debug"}},
		{raw: "gcplogging://p/l?resource_type=generic_node&resource.location=eu&resource.node_id=n1",
			want: Config{ProjectID: "p", LogID: "l", ResourceType: "generic_node", ResourceLabels: map[string]string{"location": "eu", "node_id": "n1"}}},
		{raw: "gcplogging://p/l?max_entry_bytes=1000&max_batch_entries=10&max_request_bytes=100000",
			want: Config{ProjectID: "p", LogID: "l", MaxEntryBytes: 1000, MaxBatchEntries: 10, MaxRequestBytes: 100000}},
		{raw: "gcplogging://p", wantErr: "log id is required"},
		{raw: "gcplogging:///l", wantErr: "project id is required"},
		{raw: "gcplogging://p/bad%20log", wantErr: "A-Z a-z 0-9"},
		{raw: "gcplogging://p/l?insecure=true", wantErr: "explicit endpoint"},
		{raw: "gcplogging://p/l?severity.x=LOUD", wantErr: "unknown severity"},
		{raw: "gcplogging://p/l?default_severity=meh", wantErr: "unknown severity"},
		{raw: "gcplogging://p/l?flavor=1", wantErr: "unknown parameter"},
		{raw: "gcplogging://p/l?timeout=never", wantErr: "timeout"},
		{raw: "gcplogging://key@p/l", wantErr: "credentials"},
		{raw: "stackdriver://p/l", wantErr: "scheme"},
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
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseURL(%q) =\n%+v\nwant\n%+v", tt.raw, got, tt.want)
			}
		})
	}
}

func TestNewAppliesDefaults(t *testing.T) {
	tr, err := New(Config{ProjectID: "p", LogID: "a/b"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := tr.cfg
	if c.Name != "gcplogging" || c.Endpoint != DefaultEndpoint || c.DefaultSeverity != "INFO" || c.ClientRetries ||
		c.MaxEntryBytes != 262144 || c.MaxBatchEntries != 1000 || c.MaxRequestBytes != 10_000_000 || c.RequestTimeout != 30*time.Second {
		t.Errorf("defaults not applied: %+v", c)
	}
	if tr.LogName() != "projects/p/logs/a%2Fb" {
		t.Errorf("LogName = %q", tr.LogName())
	}
	if tr.resource.GetType() != "global" || tr.resource.GetLabels()["project_id"] != "p" {
		t.Errorf("resource = %v; want global with project_id", tr.resource)
	}
	if tr.client.Load() != nil {
		t.Error("New created a client; it must not connect")
	}
}
