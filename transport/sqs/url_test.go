package sqs

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
		{raw: "sqs://events", want: Config{QueueName: "events"}},
		{raw: "sqs://events.fifo?region=eu-west-1", want: Config{QueueName: "events.fifo", Region: "eu-west-1"}},
		{
			raw:  "sqs://events?region=us-east-1&endpoint=http://127.0.0.1:9324&create=true&max_attempts=3&timeout=5s&max_message_bytes=1048576&max_batch_bytes=1048576&name=audit",
			want: Config{QueueName: "events", Region: "us-east-1", Endpoint: "http://127.0.0.1:9324", CreateQueue: true, MaxAttempts: 3, RequestTimeout: 5 * time.Second, MaxMessageBytes: 1048576, MaxBatchBytes: 1048576, Name: "audit"},
		},
		{
			raw:  "sqs://?queue_url=https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo",
			want: Config{QueueURL: "https://sqs.us-east-1.amazonaws.com/123456789012/orders.fifo"},
		},
		{
			raw:  "sqs://orders?queue_url=http://127.0.0.1:4566/000000000000/orders",
			want: Config{QueueName: "orders", QueueURL: "http://127.0.0.1:4566/000000000000/orders"},
		},
		{raw: "redis://events", wantErr: "scheme"},
		{raw: "sqs://", wantErr: "queue name or queue URL is required"},
		{raw: "sqs://bad name", wantErr: "parse url"},
		{raw: "sqs://bad*name", wantErr: "alphanumeric"},
		{raw: "sqs://" + strings.Repeat("q", 81), wantErr: "1 to 80"},
		{raw: "sqs://events?color=blue", wantErr: "unknown parameter"},
		{raw: "sqs://events?create=maybe", wantErr: "create"},
		{raw: "sqs://events?timeout=soon", wantErr: "timeout"},
		{raw: "sqs://events?endpoint=ftp://x", wantErr: "endpoint"},
		{raw: "sqs://events?region=a&region=b", wantErr: "given 2 times"},
		{raw: "sqs://key:secret@events", wantErr: "credentials"},
		{raw: "sqs://events/extra", wantErr: "unexpected path"},
		{raw: "sqs://orders?queue_url=http://127.0.0.1/000000000000/other", wantErr: "names queue"},
		{raw: "sqs://events?max_message_bytes=2000000", wantErr: "max message bytes"},
		{raw: "sqs://events?max_message_bytes=1048576&max_batch_bytes=262144", wantErr: "below the message limit"},
		{raw: "sqs://events?max_attempts=-1", wantErr: "negative"},
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
	tr, err := New(Config{QueueURL: "http://127.0.0.1:1/000000000000/jobs.fifo"})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	c := tr.cfg
	if c.Name != "sqs" || tr.Name() != "sqs" || c.QueueName != "jobs.fifo" || !tr.fifo ||
		c.MaxAttempts != 1 || c.RequestTimeout != DefaultRequestTimeout ||
		c.MaxMessageBytes != 262144 || c.MaxBatchBytes != 262144 || c.Logger == nil {
		t.Errorf("defaults not applied: %+v (fifo %v)", c, tr.fifo)
	}
	if tr.QueueURL() != "" {
		t.Errorf("QueueURL before Connect = %q; want empty (New must not connect)", tr.QueueURL())
	}
}

func TestNewRejectsInvalidConfig(t *testing.T) {
	_, err := New(Config{})
	if err == nil || !strings.Contains(err.Error(), "queue name or queue URL") {
		t.Fatalf("New(Config{}) = %v; want a validation error", err)
	}
}
