package eventgate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
)

func TestMain(m *testing.M) {
	if os.Getenv(crashChildEnv) != "" {
		crashChild()
		return
	}
	if os.Getenv(manyChildEnv) != "" {
		manyChild()
		return
	}
	goleak.VerifyTestMain(m)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openGW(t *testing.T, dir string, opts ...eventgate.Option) *eventgate.Gateway {
	t.Helper()
	g, err := eventgate.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Close(ctx)
	})
	return g
}

func TestLogDeliversAndWritesSessionFile(t *testing.T) {
	ctx := ctxT(t)
	dir := t.TempDir()
	rec := eventgatetest.NewRecorder()
	g := openGW(t, dir, eventgate.WithTransport("rec", rec))
	data := `{"type":"message", "user_session_id":"s-1", "text":"héllo"}`
	ev := &eventgate.Event{Data: json.RawMessage(data), Meta: eventgate.StringMeta(map[string]string{"k": "v"})}
	if err := g.Log(ctx, ev); err != nil {
		t.Fatal(err)
	}
	if ev.SessionID != "s-1" || ev.Type != "message" || ev.ID == "" || ev.Time.IsZero() {
		t.Fatalf("derived fields: %+v", ev)
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	got := rec.Events()
	if len(got) != 1 || got[0].ID != ev.ID || string(got[0].Data) != data || string(got[0].Meta) != `{"k":"v"}` {
		t.Fatalf("delivered %+v", got)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "s-1", "*.jsonl"))
	if len(files) != 1 || filepath.Base(files[0]) != "00000000000000000001.jsonl" {
		t.Fatalf("session files %v", files)
	}
	b, _ := os.ReadFile(files[0])
	want := fmt.Sprintf(`{"timestamp":%q,"event":%s,"id":%q,"seq":1,"session_id":"s-1","type":"message","meta":{"k":"v"}}`+"\n",
		ev.Time.UTC().Format(time.RFC3339Nano), data, ev.ID)
	if string(b) != want {
		t.Fatalf("session file:\n%s\nwant:\n%s", b, want)
	}
	evs, err := g.Events(ctx, "s-1", eventgate.EventFilter{})
	if err != nil || len(evs) != 1 || evs[0].Seq != 1 || string(evs[0].Data) != data {
		t.Fatalf("Events: %+v %v", evs, err)
	}
	infos, err := g.Sessions(ctx)
	if err != nil || len(infos) != 1 || infos[0].ID != "s-1" || infos[0].Count != 1 || !infos[0].First.Equal(ev.Time) {
		t.Fatalf("Sessions: %+v %v", infos, err)
	}
}

func TestFallbackSessionAndDerivation(t *testing.T) {
	ctx := ctxT(t)
	g := openGW(t, t.TempDir())
	cases := []struct {
		data, want string
	}{
		{`{"session_id":"b"}`, "b"},
		{`{"user_session_id":"a","session_id":"b"}`, "a"},
		{`{"session_id":42}`, "42"},
		{`{"x":1}`, "unknown"},
		{`[1,2]`, "unknown"},
		{``, "unknown"},
	}
	for _, c := range cases {
		ev := &eventgate.Event{Data: json.RawMessage(c.data)}
		if err := g.Log(ctx, ev); err != nil {
			t.Fatalf("%s: %v", c.data, err)
		}
		if ev.SessionID != c.want {
			t.Errorf("%s: session %q, want %q", c.data, ev.SessionID, c.want)
		}
	}
}

func TestLogRejectsBadInput(t *testing.T) {
	ctx := ctxT(t)
	g := openGW(t, t.TempDir(), eventgate.WithMaxEventSize(100))
	cases := map[string]struct {
		ev   *eventgate.Event
		want error
	}{
		"invalid json": {&eventgate.Event{SessionID: "s", Data: json.RawMessage(`{"a":`)}, eventgate.ErrInvalidEvent},
		"too large":    {&eventgate.Event{SessionID: "s", Data: json.RawMessage(`"` + strings.Repeat("x", 200) + `"`)}, eventgate.ErrEventTooLarge},
		"traversal":    {&eventgate.Event{SessionID: "../x", Data: json.RawMessage(`1`)}, eventgate.ErrInvalidSessionID},
		"absolute":     {&eventgate.Event{SessionID: "/etc", Data: json.RawMessage(`1`)}, eventgate.ErrInvalidSessionID},
		"nul":          {&eventgate.Event{SessionID: "a\x00b", Data: json.RawMessage(`1`)}, eventgate.ErrInvalidSessionID},
		"10KB id":      {&eventgate.Event{SessionID: strings.Repeat("a", 10<<10), Data: json.RawMessage(`1`)}, eventgate.ErrInvalidSessionID},
		"derived bad":  {&eventgate.Event{Data: json.RawMessage(`{"session_id":".."}`)}, eventgate.ErrInvalidSessionID},
		"bad meta":     {&eventgate.Event{SessionID: "s", Meta: []byte("{\"k\":\"\xff\"}")}, eventgate.ErrInvalidEvent},
		"meta array":   {&eventgate.Event{SessionID: "s", Meta: []byte(`["k"]`)}, eventgate.ErrInvalidEvent},
		"meta string":  {&eventgate.Event{SessionID: "s", Meta: []byte(`"k"`)}, eventgate.ErrInvalidEvent},
		"meta broken":  {&eventgate.Event{SessionID: "s", Meta: []byte(`{"k":}`)}, eventgate.ErrInvalidEvent},
		"nil":          {nil, eventgate.ErrInvalidEvent},
	}
	for name, c := range cases {
		if err := g.Log(ctx, c.ev); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", name, err, c.want)
		}
	}
	// Nothing of the refused events reached the journal.
	if n := g.Stats().NextSeq; n != 1 {
		t.Fatalf("next seq %d after only refused events", n)
	}
	if err := g.Log(ctx, &eventgate.Event{SessionID: "ok", Data: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
}

func TestLogAfterClose(t *testing.T) {
	g, err := eventgate.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := g.Log(context.Background(), &eventgate.Event{SessionID: "s"}); !errors.Is(err, eventgate.ErrClosed) {
		t.Fatalf("Log after Close: %v", err)
	}
	if err := g.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSecondOpenIsRefused(t *testing.T) {
	dir := t.TempDir()
	openGW(t, dir)
	if _, err := eventgate.Open(dir); err == nil {
		t.Fatal("a second Gateway opened the same directory")
	}
}

func TestPrettyPrintedDataKeepsSessionsReadable(t *testing.T) {
	ctx := ctxT(t)
	g := openGW(t, t.TempDir())
	for _, data := range []string{"{\n\"a\":1}", "[1,\r\n2]", `{"b":2}`} {
		if err := g.Log(ctx, &eventgate.Event{SessionID: "nl", Data: json.RawMessage(data)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := g.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	infos, err := g.Sessions(ctx)
	if err != nil || len(infos) != 1 || infos[0].Count != 3 {
		t.Fatalf("Sessions: %+v %v", infos, err)
	}
	evs, err := g.Events(ctx, "nl", eventgate.EventFilter{})
	if err != nil || len(evs) != 3 || string(evs[0].Data) != "{ \"a\":1}" || string(evs[2].Data) != `{"b":2}` {
		t.Fatalf("Events: %+v %v", evs, err)
	}
}
