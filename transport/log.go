package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/eventgate/eventgate"
)

// LogOption configures NewLog.
type LogOption interface{ applyLog(*Log) }

type logOptionFunc func(*Log)

func (f logOptionFunc) applyLog(l *Log) { f(l) }

// WithLogLevel sets the level events are logged at. Default slog.LevelInfo.
// When the logger's handler is not enabled for it, Send does nothing and
// returns nil.
func WithLogLevel(level slog.Level) LogOption {
	return logOptionFunc(func(l *Log) { l.level = level })
}

// WithLogMessage sets the message of every record. Default "event".
func WithLogMessage(msg string) LogOption {
	return logOptionFunc(func(l *Log) { l.msg = msg })
}

// WithLogGroup sets the key of the attribute group that holds each event.
// Default "event".
func WithLogGroup(key string) LogOption {
	return logOptionFunc(func(l *Log) {
		if key != "" {
			l.group = key
		}
	})
}

// WithLogData sets whether the event's Data is logged (under "data", as
// JSON). Default true.
func WithLogData(on bool) LogOption {
	return logOptionFunc(func(l *Log) { l.data = on })
}

// WithLogMeta sets whether the event's Meta is logged (as an attribute
// "meta" holding the JSON object as given, as "data" does). Default true.
func WithLogMeta(on bool) LogOption {
	return logOptionFunc(func(l *Log) { l.meta = on })
}

// Log is a transport that writes every event as one record to a
// *slog.Logger (the seed's LoggingTransport), for debugging and development.
//
// Each record has the configured level and message and one attribute group
// (default key "event") holding "id", "session_id", "type", "time" and,
// unless turned off, "data" (a json.RawMessage, so a JSON handler embeds it
// as JSON) and "meta". With slog.NewJSONHandler a record reads:
//
//	{"time":"…","level":"INFO","msg":"event","event":{"id":"…","session_id":"s1","type":"chat","time":"…","data":{"text":"hi"},"meta":{"user":"u1"}}}
//
// Send hands the record to the logger's handler directly, so a handler's
// error (a failed write) is returned rather than dropped.
//
// Log implements eventgate.Transport and eventgate.Namer, and is safe for
// concurrent use when the handler is (the slog handlers are).
type Log struct {
	logger *slog.Logger
	name   string
	level  slog.Level
	msg    string
	group  string
	data   bool
	meta   bool
	closed atomic.Bool
}

// NewLog returns a Log writing to logger, or to slog.Default() when logger is
// nil. It is named "log" (see WithName).
func NewLog(logger *slog.Logger, opts ...LogOption) *Log {
	if logger == nil {
		logger = slog.Default()
	}
	l := &Log{logger: logger, name: "log", level: slog.LevelInfo, msg: "event", group: "event", data: true, meta: true}
	for _, o := range opts {
		o.applyLog(l)
	}
	return l
}

// Name returns the transport's name, default "log".
func (l *Log) Name() string { return l.name }

// Send logs ev. It fails after Close (an error matching eventgate.ErrClosed),
// when ctx has already ended (wrapping ctx.Err()), and when the handler
// returns an error.
func (l *Log) Send(ctx context.Context, ev *eventgate.Event) error {
	if l.closed.Load() {
		return eventgate.NewError(l.name, eventgate.KindClosed, errors.New("transport closed"))
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(l.name, err)
	}
	if ev == nil {
		return eventgate.NewError(l.name, eventgate.KindRejected, errors.New("nil event"))
	}
	h := l.logger.Handler()
	if !h.Enabled(ctx, l.level) {
		return nil
	}
	r := slog.NewRecord(time.Now(), l.level, l.msg, 0)
	r.AddAttrs(slog.Attr{Key: l.group, Value: slog.GroupValue(l.attrs(ev)...)})
	if err := h.Handle(ctx, r); err != nil {
		return eventgate.Wrap(l.name, fmt.Errorf("log handler: %w", err))
	}
	return nil
}

func (l *Log) attrs(ev *eventgate.Event) []slog.Attr {
	a := make([]slog.Attr, 0, 6)
	a = append(a,
		slog.String("id", ev.ID),
		slog.String("session_id", ev.SessionID),
		slog.String("type", ev.Type),
		slog.Time("time", ev.Time),
	)
	if l.data {
		data := ev.Data
		if len(data) == 0 {
			data = []byte("null")
		}
		a = append(a, slog.Any("data", json.RawMessage(data)))
	}
	if l.meta && len(ev.Meta) > 0 {
		// As data: the object as given, so a JSON handler writes it typed.
		a = append(a, slog.Any("meta", json.RawMessage(ev.Meta)))
	}
	return a
}

// Close makes later Sends fail with an error matching eventgate.ErrClosed.
// The logger is not the transport's to close. Close is idempotent and
// returns nil.
func (l *Log) Close() error {
	l.closed.Store(true)
	return nil
}
