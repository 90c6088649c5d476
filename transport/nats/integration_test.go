package nats

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

func TestDuplicatesStoredOnce(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	cfg := testConfig(t, addr, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()

	a, b := newEvent("dup", 1), newEvent("dup", 2)
	for range 3 {
		if err := tr.Send(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	// A batch repeating a and holding b twice.
	if err := tr.SendBatch(ctx, []*eventgate.Event{a, b, b}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Send(ctx, b); err != nil {
		t.Fatal(err)
	}
	msgs, err := o.readStream(ctx, cfg.Stream)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || msgs[0].ev.ID != a.ID || msgs[1].ev.ID != b.ID {
		t.Fatalf("stream holds %d messages, want a then b once each: %+v", len(msgs), msgs)
	}
}

func TestMessageLayout(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	cfg := testConfig(t, addr, o)
	cfg.Subject = "egt." + cfg.Stream + ".{session}.{type}"
	cfg.StreamSubjects = nil
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ev := &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: "user.42 *>",
		Type:      "tool.call",
		Time:      time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Data:      []byte(`{ "kept" : "as is" }`),
		Meta:      eventgate.StringMeta(map[string]string{"user": "u-1", "bad key": "v"}),
	}
	if err := tr.Send(t.Context(), ev); err != nil {
		t.Fatal(err)
	}
	msgs, err := o.readStream(t.Context(), cfg.Stream)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("readStream: %d messages, %v", len(msgs), err)
	}
	m := msgs[0]
	wantSubj := "egt." + cfg.Stream + ".user%2E42%20%2A%3E.tool%2Ecall"
	if m.subject != wantSubj {
		t.Errorf("subject %q, want %q", m.subject, wantSubj)
	}
	if tr.Subject(ev.SessionID, ev.Type) != wantSubj {
		t.Errorf("Subject() = %q", tr.Subject(ev.SessionID, ev.Type))
	}
	toks := strings.Split(m.subject, ".")
	if s, err := DecodeToken(toks[2]); err != nil || s != ev.SessionID {
		t.Errorf("session token decodes to %q, %v", s, err)
	}
	if got := m.header.Get(jetstream.MsgIDHeader); got != ev.ID {
		t.Errorf("Nats-Msg-Id = %q, want %q", got, ev.ID)
	}
	if got := m.header.Get("Meta-user"); got != "u-1" {
		t.Errorf("Meta-user = %q", got)
	}
	want := eventgate.AppendJSON(nil, ev)
	got := eventgate.AppendJSON(nil, m.ev)
	if !bytes.Equal(got, want) {
		t.Errorf("body decodes to\n%s\nwant\n%s", got, want)
	}
}

func TestMissingStreamRejected(t *testing.T) {
	addr := serverAddr(t)
	stream := uniq("EGT_MISSING_")
	tr, err := New(Config{URL: "nats://" + addr, Subject: "egt." + stream + ".{session}", Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Connect(t.Context())
	if !errors.Is(err, eventgate.ErrRejected) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Connect error = %v, want KindRejected naming the missing stream", err)
	}
	err = tr.Send(t.Context(), newEvent("s", 1))
	if !errors.Is(err, eventgate.ErrRejected) {
		t.Fatalf("Send error = %v, want KindRejected", err)
	}
}

func TestNoStreamForSubjectRetryable(t *testing.T) {
	addr := serverAddr(t)
	tr, err := New(Config{URL: "nats://" + addr, Subject: uniq("egt.nostream") + ".{session}", Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Send(t.Context(), newEvent("s", 1))
	if err == nil || !eventgate.Retryable(err) {
		t.Fatalf("Send to a subject no stream captures: %v, want a retryable error", err)
	}
}

func TestStreamRecreatedAfterDeletion(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	cfg := testConfig(t, addr, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	if err := tr.Send(ctx, newEvent("s", 1)); err != nil {
		t.Fatal(err)
	}
	if err := o.js.DeleteStream(ctx, cfg.Stream); err != nil {
		t.Fatal(err)
	}
	ev := newEvent("s", 2)
	if err := tr.Send(ctx, ev); err != nil {
		t.Fatalf("Send after the stream was deleted: %v", err)
	}
	evs, err := o.events(ctx, cfg.Stream)
	if err != nil || len(evs) != 1 || evs[0].ID != ev.ID {
		t.Fatalf("re-created stream holds %v, %v", evs, err)
	}
}

func TestStreamCreatedAndUpdated(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	ctx := t.Context()
	stream := uniq("EGT_UPD_")
	o.deleteStreamAtCleanup(t, stream)
	// An existing stream with another subject and other limits.
	if _, err := o.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{"egt." + stream + ".other"}, Storage: jetstream.FileStorage,
		MaxAge: time.Hour, Duplicates: time.Minute, MaxMsgs: 1000,
	}); err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: "nats://" + addr, Subject: "egt." + stream + ".s.{session}", Stream: stream, CreateStream: true,
		MaxAge: 2 * time.Hour, DuplicateWindow: 5 * time.Minute}
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if err := tr.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	s, err := o.js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	got := s.CachedInfo().Config
	if strings.Join(got.Subjects, ",") != "egt."+stream+".other,egt."+stream+".s.*" ||
		got.MaxAge != 2*time.Hour || got.Duplicates != 5*time.Minute || got.MaxMsgs != 1000 {
		t.Errorf("updated stream: subjects %v max age %v window %v max msgs %d", got.Subjects, got.MaxAge, got.Duplicates, got.MaxMsgs)
	}

	// Storage cannot change: a memory-storage config is refused for good.
	cfg.Storage = StorageMemory
	tr2, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr2.Close()
	if err := tr2.Connect(ctx); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("Connect with another storage type: %v, want KindRejected", err)
	}
}

func TestTooLargeRejected(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	cfg := testConfig(t, addr, o)
	tr, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	big := newEvent("big", 0)
	big.Data = []byte(`"` + strings.Repeat("x", int(o.nc.MaxPayload())) + `"`)
	if err := tr.Send(ctx, big); !errors.Is(err, eventgate.ErrRejected) {
		t.Fatalf("Send of an oversize event: %v, want KindRejected", err)
	}
	// In a batch only the oversize event fails; the others are stored.
	a, b := newEvent("big", 1), newEvent("big", 2)
	err = tr.SendBatch(ctx, []*eventgate.Event{a, big, b})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 1 || !errors.Is(be.ErrorAt(1), eventgate.ErrRejected) {
		t.Fatalf("SendBatch error = %v, want a BatchError naming only event 1 as rejected", err)
	}
	evs, err := o.events(ctx, cfg.Stream)
	if err != nil || len(evs) != 2 || evs[0].ID != a.ID || evs[1].ID != b.ID {
		t.Fatalf("stream holds %v, %v; want a and b", evs, err)
	}
}

func TestStreamMaxMsgSizeRejected(t *testing.T) {
	addr := serverAddr(t)
	o := newObserver(t, addr)
	ctx := t.Context()
	stream := uniq("EGT_SMALL_")
	o.deleteStreamAtCleanup(t, stream)
	if _, err := o.js.CreateStream(ctx, jetstream.StreamConfig{
		Name: stream, Subjects: []string{"egt." + stream + ".*"}, Storage: jetstream.MemoryStorage, MaxMsgSize: 512,
	}); err != nil {
		t.Fatal(err)
	}
	tr, err := New(Config{URL: "nats://" + addr, Subject: "egt." + stream + ".{session}", Stream: stream})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ev := newEvent("s", 1)
	ev.Data = []byte(`"` + strings.Repeat("y", 1024) + `"`)
	if err := tr.Send(ctx, ev); !errors.Is(err, eventgate.ErrRejected) {
		t.Fatalf("Send beyond the stream's max message size: %v, want KindRejected", err)
	}
}

func TestUnreachableServer(t *testing.T) {
	tr, err := New(Config{URL: "nats://127.0.0.1:1", ConnectTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Send(context.Background(), newEvent("s", 1))
	if !errors.Is(err, eventgate.ErrConnection) {
		t.Fatalf("Send to an unreachable server: %v, want KindConnection", err)
	}
}
