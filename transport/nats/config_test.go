package nats

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want Config
	}{
		{
			raw:  "nats://127.0.0.1:4222",
			want: Config{URL: "nats://127.0.0.1:4222"},
		},
		{
			raw: "nats://127.0.0.1:4222?subject=events.{session}&stream=EVENTS&create_stream=true&storage=file&timeout=5s",
			want: Config{URL: "nats://127.0.0.1:4222", Subject: "events.{session}", Stream: "EVENTS",
				CreateStream: true, Storage: "file", Timeout: 5 * time.Second},
		},
		{
			raw: "nats://u:p@a:4222,nats://b:4222?subject=ev.%7Bsession%7D.%7Btype%7D&max_age=24h&duplicate_window=5m&replicas=3" +
				"&connect_timeout=1s&reconnect_wait=250ms&max_reconnects=10&reconnect_buf_size=65536&max_pending=100" +
				"&header_prefix=X-&client_name=me&name=bus&storage=MEMORY&stream_subjects=ev.>,other.*",
			want: Config{URL: "nats://u:p@a:4222,nats://b:4222", Subject: "ev.{session}.{type}", MaxAge: 24 * time.Hour,
				DuplicateWindow: 5 * time.Minute, Replicas: 3, ConnectTimeout: time.Second, ReconnectWait: 250 * time.Millisecond,
				MaxReconnects: 10, ReconnectBufSize: 65536, MaxPending: 100, HeaderPrefix: "X-", ClientName: "me", Name: "bus",
				Storage: "memory", StreamSubjects: []string{"ev.>", "other.*"}},
		},
	}
	for _, tc := range tests {
		got, err := ParseURL(tc.raw)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", tc.raw, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseURL(%q)\n got %+v\nwant %+v", tc.raw, got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, raw := range []string{
		"",
		"?stream=X",
		"http://127.0.0.1:4222",
		"nats://",
		"nats://h:4222?bogus=1",
		"nats://h:4222?create_stream=maybe",
		"nats://h:4222?timeout=5",
		"nats://h:4222?replicas=x",
		"nats://h:4222?a=%zz",
	} {
		if _, err := ParseURL(raw); err == nil {
			t.Errorf("ParseURL(%q) accepted a bad URL", raw)
		}
	}
}

func TestParseURLRedactsPassword(t *testing.T) {
	_, err := ParseURL("http://user:secret@h:4222")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error %v should exist and hide the password", err)
	}
}

func TestConfigDefaults(t *testing.T) {
	tr, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	c := tr.Config()
	if c.URL != DefaultURL || c.Name != "nats" || c.Subject != DefaultSubject || c.Storage != StorageFile ||
		c.DuplicateWindow != 2*time.Minute || c.Timeout != 5*time.Second || c.MaxReconnects != -1 ||
		c.ReconnectBufSize != -1 || c.MaxPending != 4096 || c.HeaderPrefix != "Meta-" ||
		!reflect.DeepEqual(c.StreamSubjects, []string{"events.*"}) {
		t.Errorf("defaults not applied: %+v", c)
	}
	if tr.Name() != "nats" {
		t.Errorf("Name() = %q", tr.Name())
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close of an unused transport: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"bad subject", Config{Subject: "events.*"}},
		{"create without stream", Config{CreateStream: true}},
		{"bad stream name", Config{Stream: "a.b"}},
		{"bad storage", Config{Storage: "disk"}},
		{"negative max age", Config{MaxAge: -time.Second}},
		{"window beyond max age", Config{MaxAge: time.Minute, DuplicateWindow: time.Hour}},
		{"replicas", Config{Replicas: 7}},
		{"max reconnects", Config{MaxReconnects: -2}},
		{"buffer", Config{ReconnectBufSize: -5}},
		{"max pending", Config{MaxPending: -1}},
		{"header prefix", Config{HeaderPrefix: "Bad Prefix:"}},
		{"stream subject", Config{StreamSubjects: []string{"a..b"}}},
	}
	for _, tc := range tests {
		err := tc.cfg.Validate()
		if err == nil {
			t.Errorf("%s: Validate accepted %+v", tc.name, tc.cfg)
			continue
		}
		if _, nerr := New(tc.cfg); !errors.Is(nerr, eventgate.ErrRejected) {
			t.Errorf("%s: New error = %v, want one matching ErrRejected", tc.name, nerr)
		}
	}
	if err := (Config{Stream: "EVENTS", CreateStream: true, MaxAge: time.Hour}).Validate(); err != nil {
		t.Errorf("valid config refused: %v", err)
	}
}

func TestBuildHeader(t *testing.T) {
	ev := &eventgate.Event{ID: "id-1", Meta: eventgate.StringMeta(map[string]string{
		"user":            "u-17",
		"trace.id":        "abc",
		"key with spaces": "dropped",
		"colon:key":       "dropped",
		"multi":           "line1\nline2",
		"padded":          " x ",
		"empty":           "",
		"unicode":         "日本",
	})}
	h := buildHeader("Meta-", ev)
	want := natsgo.Header{
		"Nats-Msg-Id":   {"id-1"},
		"Meta-user":     {"u-17"},
		"Meta-trace.id": {"abc"},
		"Meta-empty":    {""},
		"Meta-unicode":  {"日本"},
	}
	if !reflect.DeepEqual(h, want) {
		t.Errorf("buildHeader =\n%v\nwant\n%v", h, want)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want eventgate.Kind
	}{
		{natsgo.ErrNoResponders, eventgate.KindConnection},
		{jetstream.ErrNoStreamResponse, eventgate.KindConnection},
		{natsgo.ErrConnectionClosed, eventgate.KindConnection},
		{natsgo.ErrDisconnected, eventgate.KindConnection},
		{natsgo.ErrReconnectBufExceeded, eventgate.KindConnection},
		{natsgo.ErrNoServers, eventgate.KindConnection},
		{jetstream.ErrTooManyStalledMsgs, eventgate.KindConnection},
		{natsgo.ErrTimeout, eventgate.KindTimeout},
		{jetstream.ErrAsyncPublishTimeout, eventgate.KindTimeout},
		{context.DeadlineExceeded, eventgate.KindTimeout},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), eventgate.KindTimeout},
		{natsgo.ErrMaxPayload, eventgate.KindRejected},
		{jetstream.ErrStreamMessageExceedsMaximum, eventgate.KindRejected},
		{&jetstream.APIError{Code: 400, ErrorCode: jetstream.JSErrCodeStreamMessageExceedsMaximum}, eventgate.KindRejected},
		{&jetstream.APIError{Code: 400, ErrorCode: 10060, Description: "expected stream does not match"}, eventgate.KindRejected},
		{&jetstream.APIError{Code: 503, ErrorCode: 10077, Description: "maximum messages exceeded"}, eventgate.KindConnection},
		{&jetstream.APIError{Code: 408}, eventgate.KindTimeout},
		{natsgo.ErrBadSubject, eventgate.KindRejected},
		{natsgo.ErrBadHeaderMsg, eventgate.KindRejected},
		{natsgo.ErrAuthorization, eventgate.KindUnavailable},
		{natsgo.ErrPermissionViolation, eventgate.KindUnavailable},
		{errors.New("something else"), eventgate.KindUnknown},
	}
	for _, tc := range tests {
		if got := classify(tc.err); got != tc.want {
			t.Errorf("classify(%v) = %v, want %v", tc.err, got, tc.want)
		}
		err := wrapErr("nats", "op", tc.err)
		var te *eventgate.TransportError
		if !errors.As(err, &te) || te.Kind != tc.want || te.Transport != "nats" || !errors.Is(err, tc.err) {
			t.Errorf("wrapErr(%v) = %#v", tc.err, err)
		}
	}
}
