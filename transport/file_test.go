package transport_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

var _ eventgate.BatchSender = (*transport.File)(nil)

// leafReadFile returns the events in f's rotated files, oldest first, then in
// its current file.
func leafReadFile(tb testing.TB, f *transport.File) []*eventgate.Event {
	tb.Helper()
	paths, err := f.Rotated()
	if err != nil {
		tb.Fatal(err)
	}
	var out []*eventgate.Event
	for _, p := range append(paths, f.Path()) {
		data, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, leafDecodeLines(tb, data)...)
	}
	return out
}

func leafNewFile(tb testing.TB, opts ...transport.FileOption) *transport.File {
	tb.Helper()
	f, err := transport.NewFile(filepath.Join(tb.TempDir(), "out", "events.jsonl"), opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return f
}

func TestFileConformance(t *testing.T) {
	tests := []struct {
		name     string
		opts     []transport.FileOption
		features eventgatetest.Features
	}{
		{"write", nil, eventgatetest.Features{}},
		{"buffered", []transport.FileOption{transport.WithFileSync(transport.FileSyncBuffered)}, eventgatetest.Features{}},
		// One fsync per Send: fewer concurrent sends keep the run short.
		{"fsync", []transport.FileOption{transport.WithFileSync(transport.FileSyncFsync)}, eventgatetest.Features{ConcurrentSends: 1000}},
		{"rotating", []transport.FileOption{transport.WithFileMaxSize(64 << 10)}, eventgatetest.Features{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eventgatetest.TestTransport(t, eventgatetest.Harness{
				New: func(tb testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
					f := leafNewFile(tb, tt.opts...)
					return f, func(ctx context.Context) ([]*eventgate.Event, error) {
						// Buffered lines are the file's once flushed; after
						// Close, Close has flushed them.
						if err := f.Flush(ctx); err != nil && !errors.Is(err, eventgate.ErrClosed) {
							return nil, err
						}
						return leafReadFile(t, f), nil
					}
				},
				Features: tt.features,
			})
		})
	}
}

func TestFileOpenErrors(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	if err := os.WriteFile(regular, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts []transport.FileOption
		want string
		kind eventgate.Kind
	}{
		{"empty path", "", nil, "empty path", eventgate.KindRejected},
		{"parent is a file", filepath.Join(regular, "events.jsonl"), nil, "not a directory", eventgate.KindUnknown},
		{"path is a directory", dir, nil, "is a directory", eventgate.KindUnknown},
		{"unknown sync policy", filepath.Join(dir, "a.jsonl"), []transport.FileOption{transport.WithFileSync(9)}, "unknown sync policy", eventgate.KindRejected},
		{"negative buffer", filepath.Join(dir, "a.jsonl"), []transport.FileOption{transport.WithFileBuffer(-1)}, "negative buffer", eventgate.KindRejected},
		{"negative max size", filepath.Join(dir, "a.jsonl"), []transport.FileOption{transport.WithFileMaxSize(-1)}, "negative max size", eventgate.KindRejected},
		{"negative backups", filepath.Join(dir, "a.jsonl"), []transport.FileOption{transport.WithFileMaxBackups(-1)}, "negative max backups", eventgate.KindRejected},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := transport.NewFile(tt.path, tt.opts...)
			if err == nil {
				_ = f.Close()
				t.Fatal("NewFile succeeded")
			}
			var te *eventgate.TransportError
			if !errors.As(err, &te) || te.Kind != tt.kind || te.Transport != "file" {
				t.Errorf("got %#v; want a %v TransportError of \"file\"", err, tt.kind)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q lacks %q", err, tt.want)
			}
			if tt.path != "" && !strings.Contains(err.Error(), tt.path) && tt.kind != eventgate.KindRejected {
				t.Errorf("message %q does not name the path", err)
			}
		})
	}
}

func TestFilePermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions are not enforced")
	}
	dir := filepath.Join(t.TempDir(), "ro")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	_, err := transport.NewFile(filepath.Join(dir, "events.jsonl"))
	if !errors.Is(err, eventgate.ErrRejected) || !errors.Is(err, os.ErrPermission) {
		t.Fatalf("got %v; want a rejected permission error", err)
	}
}

func TestFileEncodingErrors(t *testing.T) {
	f := leafNewFile(t)
	defer f.Close()
	bad := leafEvent(1, "s")
	bad.Data = []byte(`{"unterminated":`)
	if err := f.Send(t.Context(), bad); !errors.Is(err, eventgate.ErrSerialization) || eventgate.Retryable(err) {
		t.Errorf("invalid data: %v; want a permanent serialization error", err)
	}
	if err := f.Send(t.Context(), nil); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("nil event: %v; want ErrRejected", err)
	}
	batch := []*eventgate.Event{leafEvent(2, "s"), bad, nil, leafEvent(3, "s")}
	err := f.SendBatch(t.Context(), batch)
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 ||
		!errors.Is(be.ErrorAt(1), eventgate.ErrSerialization) || !errors.Is(be.ErrorAt(2), eventgate.ErrRejected) {
		t.Fatalf("batch with bad events: %v; want a BatchError for events 1 and 2", err)
	}
	got := leafReadFile(t, f)
	if len(got) != 2 || got[0].ID != "ev-000002" || got[1].ID != "ev-000003" {
		t.Fatalf("file holds %d events; want the two good ones", len(got))
	}
}

// /dev/full accepts an open and refuses every write with ENOSPC.
func TestFileWriteError(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	f, err := transport.NewFile("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	err = f.Send(t.Context(), leafEvent(1, "s"))
	if err == nil || !eventgate.Retryable(err) || !strings.Contains(err.Error(), "no space left") || !strings.Contains(err.Error(), "/dev/full") {
		t.Errorf("write to a full device: %v; want a retryable error naming the path and the cause", err)
	}
	if err := f.Close(); err != nil {
		t.Errorf("Close after a failed write: %v", err)
	}
}

func TestFileFailedLineIsNotWrittenOnClose(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	f, err := transport.NewFile("/dev/full", transport.WithFileSync(transport.FileSyncBuffered), transport.WithFileBuffer(1))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Send(t.Context(), leafEvent(1, "s")); err == nil {
		t.Error("Send reaching the write succeeded on a full device")
	}
	err = f.Close()
	if err != nil {
		t.Errorf("Close: %v; want nil, the failed Send's line was dropped, not kept", err)
	}
}

func TestFileAppendsAndRepairsTornLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	if err := os.WriteFile(path, []byte(`{"id":"old"}`+"\n"+`{"id":"torn`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := transport.NewFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Send(t.Context(), leafEvent(1, "s")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || lines[0] != `{"id":"old"}` || lines[1] != `{"id":"torn` || !strings.HasPrefix(lines[2], `{"id":"ev-000001"`) {
		t.Fatalf("file is %q; want the old line, the torn line terminated, then the new event", data)
	}
}

func TestFileLineFormat(t *testing.T) {
	f := leafNewFile(t)
	ev := leafEvent(1, "s")
	ev.Data = []byte("{\n  \"pretty\": [1, 2],\r\n  \"s\": \"a\\nb\"\n}")
	plain := leafEvent(2, "s")
	if err := f.SendBatch(t.Context(), []*eventgate.Event{ev, plain}); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	data, _ := os.ReadFile(f.Path())
	want := string(eventgate.AppendJSON(nil, &eventgate.Event{
		ID: ev.ID, SessionID: ev.SessionID, Type: ev.Type, Time: ev.Time, Meta: ev.Meta,
		Data: []byte(`{"pretty":[1,2],"s":"a\nb"}`),
	})) + "\n" + string(eventgate.AppendJSON(nil, plain)) + "\n"
	if string(data) != want {
		t.Fatalf("file:\n%s\nwant:\n%s", data, want)
	}
}

func TestFileBufferedWritesOnFlushAndClose(t *testing.T) {
	f := leafNewFile(t, transport.WithFileSync(transport.FileSyncBuffered))
	size := func() int64 {
		st, err := os.Stat(f.Path())
		if err != nil {
			t.Fatal(err)
		}
		return st.Size()
	}
	if err := f.Send(t.Context(), leafEvent(1, "s")); err != nil {
		t.Fatal(err)
	}
	if size() != 0 {
		t.Fatal("a buffered line reached the file before Flush")
	}
	if err := f.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	flushed := size()
	if flushed == 0 {
		t.Fatal("Flush wrote nothing")
	}
	if err := f.Send(t.Context(), leafEvent(2, "s")); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if size() <= flushed {
		t.Fatal("Close did not write the buffered line")
	}
	if err := f.Flush(t.Context()); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Flush after Close: %v", err)
	}
}

func TestFileBufferFillsAndWrites(t *testing.T) {
	f := leafNewFile(t, transport.WithFileSync(transport.FileSyncBuffered), transport.WithFileBuffer(1000))
	defer f.Close()
	for i := 0; i < 50; i++ {
		if err := f.Send(t.Context(), leafEvent(i, "s")); err != nil {
			t.Fatal(err)
		}
	}
	st, _ := os.Stat(f.Path())
	if st.Size() < 1000 {
		t.Fatalf("file has %d bytes after 50 sends with a 1000-byte buffer", st.Size())
	}
}

func TestFileRotation(t *testing.T) {
	const maxSize = 2000
	f := leafNewFile(t, transport.WithFileMaxSize(maxSize), transport.WithFileMaxBackups(3))
	want := leafEvents(100, "s")
	for _, ev := range want[:60] {
		if err := f.Send(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.SendBatch(t.Context(), want[60:]); err != nil { // larger than maxSize: alone in a file
		t.Fatal(err)
	}
	rotated, err := f.Rotated()
	if err != nil {
		t.Fatal(err)
	}
	if len(rotated) != 3 {
		t.Fatalf("%d rotated files kept; want 3: %v", len(rotated), rotated)
	}
	got := leafReadFile(t, f)
	// The kept files hold an unbroken tail of the events, in order.
	if len(got) == 0 || got[len(got)-1].ID != want[99].ID {
		t.Fatalf("last event %v; want %s", got, want[99].ID)
	}
	offset := len(want) - len(got)
	for i, ev := range got {
		if ev.ID != want[offset+i].ID {
			t.Fatalf("event %d is %s; want %s", i, ev.ID, want[offset+i].ID)
		}
	}
	for _, p := range rotated[:len(rotated)-1] {
		st, _ := os.Stat(p)
		if st.Size() > maxSize {
			t.Errorf("rotated file %s has %d bytes, over the %d limit", filepath.Base(p), st.Size(), maxSize)
		}
	}
	if !strings.HasPrefix(filepath.Base(rotated[0]), "events-") || filepath.Ext(rotated[0]) != ".jsonl" {
		t.Errorf("rotated name %s; want events-<time>.jsonl", rotated[0])
	}
	_ = f.Close()
}

func TestFileConcurrentBatchesStayWhole(t *testing.T) {
	f := leafNewFile(t)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := leafEvents(50, fmt.Sprintf("w%d", w))
			if err := f.SendBatch(t.Context(), batch); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	_ = f.Close()
	got := leafReadFile(t, f)
	if len(got) != 400 {
		t.Fatalf("%d events; want 400", len(got))
	}
	for i := 0; i < len(got); i += 50 {
		for j := 1; j < 50; j++ {
			if got[i+j].SessionID != got[i].SessionID {
				t.Fatalf("batches interleaved at line %d", i+j)
			}
		}
	}
}

func BenchmarkFile(b *testing.B) {
	for _, policy := range []transport.FileSync{transport.FileSyncBuffered, transport.FileSyncWrite, transport.FileSyncFsync} {
		b.Run(policy.String(), func(b *testing.B) {
			f := leafNewFile(b, transport.WithFileSync(policy))
			defer f.Close()
			ctx := context.Background()
			ev := leafEvent(0, "s")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.Send(ctx, ev); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkFileBatch(b *testing.B) {
	for _, policy := range []transport.FileSync{transport.FileSyncWrite, transport.FileSyncFsync} {
		b.Run(policy.String(), func(b *testing.B) {
			f := leafNewFile(b, transport.WithFileSync(policy))
			defer f.Close()
			ctx := context.Background()
			batch := leafEvents(100, "s")
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if err := f.SendBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
