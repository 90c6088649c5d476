package transport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

// leafLogBuffer is an io.Writer that can be read while written.
type leafLogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *leafLogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *leafLogBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// leafLogRecord is one record of the JSON handler as Log writes it.
type leafLogRecord struct {
	Level string          `json:"level"`
	Msg   string          `json:"msg"`
	Event json.RawMessage `json:"event"`
}

type leafLoggedEvent struct {
	ID        string          `json:"id"`
	SessionID string          `json:"session_id"`
	Type      string          `json:"type"`
	Time      time.Time       `json:"time"`
	Data      json.RawMessage `json:"data"`
	Meta      json.RawMessage `json:"meta"`
}

func leafParseLog(data []byte) ([]*eventgate.Event, error) {
	var out []*eventgate.Event
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var r leafLogRecord
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, err
		}
		var e leafLoggedEvent
		if err := json.Unmarshal(r.Event, &e); err != nil {
			return nil, err
		}
		out = append(out, &eventgate.Event{ID: e.ID, SessionID: e.SessionID, Type: e.Type, Time: e.Time, Data: e.Data, Meta: e.Meta})
	}
	return out, nil
}

func TestLogConformance(t *testing.T) {
	eventgatetest.TestTransport(t, eventgatetest.Harness{
		New: func(testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
			buf := new(leafLogBuffer)
			l := transport.NewLog(slog.New(slog.NewJSONHandler(buf, nil)))
			return l, func(context.Context) ([]*eventgate.Event, error) { return leafParseLog(buf.Bytes()) }
		},
		// The JSON handler re-encodes Data: compact, with <, > and & escaped.
		Features: eventgatetest.Features{DataNormalized: true},
	})
}

func TestLogOptions(t *testing.T) {
	ev := leafEvent(7, "s1")
	ev.Meta = eventgate.StringMeta(map[string]string{"b": "2", "a": "1"})
	tests := []struct {
		name     string
		handler  *slog.HandlerOptions
		opts     []transport.LogOption
		want     []string // substrings of the output
		wantNot  []string
		wantNone bool // nothing written
	}{
		{
			name: "defaults",
			want: []string{`"level":"INFO"`, `"msg":"event"`, `"event":{"id":"ev-000007","session_id":"s1","type":"test.step","time":"2025-05-06T07:08:09.100200307Z","data":{"i":7,"text":"héllo"},"meta":{"a":"1","b":"2"}}`},
		},
		{
			name: "level and message",
			opts: []transport.LogOption{transport.WithLogLevel(slog.LevelWarn), transport.WithLogMessage("forwarded")},
			want: []string{`"level":"WARN"`, `"msg":"forwarded"`},
		},
		{
			name:     "below the handler's level",
			handler:  &slog.HandlerOptions{Level: slog.LevelWarn},
			opts:     []transport.LogOption{transport.WithLogLevel(slog.LevelDebug)},
			wantNone: true,
		},
		{
			name:    "group key",
			opts:    []transport.LogOption{transport.WithLogGroup("ev")},
			want:    []string{`"ev":{"id":"ev-000007"`},
			wantNot: []string{`"event":`},
		},
		{
			name:    "without data and meta",
			opts:    []transport.LogOption{transport.WithLogData(false), transport.WithLogMeta(false)},
			want:    []string{`"time":"2025-05-06T07:08:09.100200307Z"}}`},
			wantNot: []string{`"data"`, `"meta"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			buf := new(leafLogBuffer)
			l := transport.NewLog(slog.New(slog.NewJSONHandler(buf, tt.handler)), tt.opts...)
			defer l.Close()
			if err := l.Send(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
			out := string(buf.Bytes())
			if tt.wantNone {
				if out != "" {
					t.Fatalf("wrote %q; want nothing", out)
				}
				return
			}
			if strings.Count(out, "\n") != 1 {
				t.Errorf("want exactly one record, got %q", out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output %s lacks %s", out, w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(out, w) {
					t.Errorf("output %s has %s", out, w)
				}
			}
		})
	}
}

func TestLogTextHandler(t *testing.T) {
	buf := new(leafLogBuffer)
	l := transport.NewLog(slog.New(slog.NewTextHandler(buf, nil)))
	if err := l.Send(t.Context(), leafEvent(1, "s1")); err != nil {
		t.Fatal(err)
	}
	out := string(buf.Bytes())
	for _, w := range []string{"msg=event", "event.id=ev-000001", "event.session_id=s1", `event.data="{\"i\": 1`, `event.meta="{\"k\":\"v\"}"`} {
		if !strings.Contains(out, w) {
			t.Errorf("output %q lacks %q", out, w)
		}
	}
}

type leafFailingHandler struct{ slog.Handler }

var errLeafHandler = errors.New("disk full")

func (leafFailingHandler) Enabled(context.Context, slog.Level) bool  { return true }
func (leafFailingHandler) Handle(context.Context, slog.Record) error { return errLeafHandler }

func TestLogErrors(t *testing.T) {
	l := transport.NewLog(slog.New(leafFailingHandler{slog.DiscardHandler}), transport.WithName("audit"))
	err := l.Send(t.Context(), leafEvent(1, "s"))
	var te *eventgate.TransportError
	if !errors.Is(err, errLeafHandler) || !errors.As(err, &te) || te.Transport != "audit" || !eventgate.Retryable(err) {
		t.Errorf("handler failure: %v; want a retryable TransportError of audit wrapping the handler's error", err)
	}
	if err := l.Send(t.Context(), nil); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("nil event: %v; want ErrRejected", err)
	}
	if l.Name() != "audit" {
		t.Errorf("Name %q", l.Name())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Send(t.Context(), leafEvent(1, "s")); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}

func TestLogNilLoggerUsesDefault(t *testing.T) {
	l := transport.NewLog(nil, transport.WithLogLevel(slog.LevelDebug-8)) // below any default level
	if err := l.Send(t.Context(), leafEvent(1, "s")); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkLog(b *testing.B) {
	l := transport.NewLog(slog.New(slog.NewJSONHandler(leafDiscard{}, nil)))
	ctx := context.Background()
	ev := leafEvent(0, "s")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := l.Send(ctx, ev); err != nil {
				b.Fatal(err)
			}
		}
	})
}

type leafDiscard struct{}

func (leafDiscard) Write(p []byte) (int, error) { return len(p), nil }
