package transport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
)

// FileSync is the policy that decides when File hands its lines to the
// operating system and when it asks for them to reach stable storage.
type FileSync uint8

const (
	// FileSyncWrite (the default) writes every Send and SendBatch to the
	// file, in one write call, before returning: an accepted event survives
	// a crash of the process, though not of the machine.
	FileSyncWrite FileSync = iota
	// FileSyncBuffered keeps lines in memory until the buffer (see
	// WithFileBuffer) fills, Flush is called, or Close. It is the fastest,
	// but events accepted since the last write are lost if the process
	// dies: Send returning nil no longer means the event is in the file.
	FileSyncBuffered
	// FileSyncFsync writes every Send and SendBatch and then calls fsync, so
	// an accepted event survives a crash of the machine. One fsync covers a
	// whole batch.
	FileSyncFsync
)

// String returns "write", "buffered" or "fsync".
func (s FileSync) String() string {
	switch s {
	case FileSyncWrite:
		return "write"
	case FileSyncBuffered:
		return "buffered"
	case FileSyncFsync:
		return "fsync"
	}
	return "filesync(" + strconv.Itoa(int(s)) + ")"
}

// Defaults of the File options.
const (
	DefaultFileBuffer = 64 << 10 // bytes buffered under FileSyncBuffered
	DefaultFilePerm   = 0o644    // permissions of a created file
)

type fileConfig struct {
	name       string
	sync       FileSync
	buffer     int
	maxSize    int64
	maxBackups int
	perm       os.FileMode
}

// FileOption configures NewFile.
type FileOption interface{ applyFile(*fileConfig) }

type fileOptionFunc func(*fileConfig)

func (f fileOptionFunc) applyFile(c *fileConfig) { f(c) }

// WithFileSync sets the sync policy. Default FileSyncWrite.
func WithFileSync(policy FileSync) FileOption {
	return fileOptionFunc(func(c *fileConfig) { c.sync = policy })
}

// WithFileBuffer sets how many bytes of lines FileSyncBuffered keeps before
// it writes them. Default DefaultFileBuffer (64 KiB). Other policies ignore
// it.
func WithFileBuffer(bytes int) FileOption {
	return fileOptionFunc(func(c *fileConfig) { c.buffer = bytes })
}

// WithFileMaxSize turns on rotation: before a write that would take the file
// past bytes, the file is renamed to "<stem>-<UTC time><ext>" (for example
// events-20250102T030405.000000000Z.jsonl) and a new one is started. A
// single write larger than bytes goes alone into a fresh file. Default 0, no
// rotation.
func WithFileMaxSize(bytes int64) FileOption {
	return fileOptionFunc(func(c *fileConfig) { c.maxSize = bytes })
}

// WithFileMaxBackups keeps at most n rotated files, deleting the oldest
// after each rotation. Default 0, keep them all.
func WithFileMaxBackups(n int) FileOption {
	return fileOptionFunc(func(c *fileConfig) { c.maxBackups = n })
}

// WithFilePerm sets the permissions of a file File creates. Default
// DefaultFilePerm (0644). Missing parent directories are created with 0755.
func WithFilePerm(perm os.FileMode) FileOption {
	return fileOptionFunc(func(c *fileConfig) { c.perm = perm })
}

// File is a transport that appends every event to a JSON Lines file: one
// line per event, the event's eventgate.AppendJSON form, Data byte for byte.
// The one exception: Data holding line breaks (pretty-printed JSON, where a
// raw line break can only be whitespace) is compacted so that each event
// stays on one line.
//
// The file is opened in append mode, so existing content is kept; a last
// line left unterminated by a crash is terminated before the first new line.
// File assumes it is the only writer of its file. When a write fails, File
// truncates what it wrote of it, so the file never holds half a line it
// reported as failed.
//
// SendBatch writes a whole batch with one write call (and at most one
// fsync). The sync policy (WithFileSync) decides what Send returning nil
// guarantees; WithFileMaxSize adds rotation by size.
//
// File implements eventgate.Transport, eventgate.BatchSender and
// eventgate.Namer, and is safe for concurrent use. Errors are
// *eventgate.TransportError: invalid Data is KindSerialization (the event
// would corrupt the file), a nil event KindRejected, and a failed write or
// fsync keeps the kind eventgate.Classify gives it (retryable).
type File struct {
	cfg  fileConfig
	path string

	mu      sync.Mutex
	f       *os.File // nil after a failed rotation until reopened
	size    int64    // bytes in the current file
	pending []byte   // encoded lines not yet written
	torn    bool     // the file does not end with a newline
	special bool     // a device, not a regular file: no fsync, no truncation
	closed  bool
}

// NewFile opens (creating it and its directories when missing) the file at
// path for appending. The transport is named "file" (see WithName). The
// error, when the file cannot be opened, is an *eventgate.TransportError
// naming the path; it is of kind eventgate.KindRejected when permission was
// denied.
func NewFile(path string, opts ...FileOption) (*File, error) {
	cfg := fileConfig{name: "file", buffer: DefaultFileBuffer, perm: DefaultFilePerm}
	for _, o := range opts {
		o.applyFile(&cfg)
	}
	bad := func(format string, args ...any) (*File, error) {
		return nil, eventgate.NewError(cfg.name, eventgate.KindRejected, fmt.Errorf("file: "+format, args...))
	}
	switch {
	case path == "":
		return bad("empty path")
	case cfg.sync > FileSyncFsync:
		return bad("unknown sync policy %v", cfg.sync)
	case cfg.buffer < 0:
		return bad("negative buffer size %d", cfg.buffer)
	case cfg.maxSize < 0:
		return bad("negative max size %d", cfg.maxSize)
	case cfg.maxBackups < 0:
		return bad("negative max backups %d", cfg.maxBackups)
	}
	t := &File{cfg: cfg, path: path}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, t.openError(fmt.Errorf("file: create directory for %s: %w", path, err))
	}
	if err := t.openLocked(); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *File) openError(err error) error {
	if errors.Is(err, os.ErrPermission) {
		return eventgate.NewError(t.cfg.name, eventgate.KindRejected, err)
	}
	return eventgate.Wrap(t.cfg.name, err)
}

// openLocked opens the file at t.path, learning its size and whether its
// last line is terminated.
func (t *File) openLocked() error {
	f, err := os.OpenFile(t.path, os.O_RDWR|os.O_APPEND|os.O_CREATE, t.cfg.perm)
	if err != nil {
		return t.openError(fmt.Errorf("file: open: %w", err))
	}
	st, err := f.Stat()
	if err != nil {
		_ = f.Close()
		return t.openError(fmt.Errorf("file: stat %s: %w", t.path, err))
	}
	if !st.Mode().IsRegular() && st.Mode()&os.ModeCharDevice == 0 {
		_ = f.Close()
		return eventgate.NewError(t.cfg.name, eventgate.KindRejected, fmt.Errorf("file: %s is not a regular file", t.path))
	}
	t.f, t.size, t.torn, t.special = f, st.Size(), false, !st.Mode().IsRegular()
	if t.size > 0 {
		var last [1]byte
		if _, err := f.ReadAt(last[:], t.size-1); err == nil || errors.Is(err, io.EOF) {
			t.torn = last[0] != '\n'
		}
	}
	return nil
}

// Name returns the transport's name, default "file".
func (t *File) Name() string { return t.cfg.name }

// Path returns the path of the file being written.
func (t *File) Path() string { return t.path }

// Send appends ev as one line. What nil guarantees depends on the sync
// policy (see FileSync). It fails after Close (an error matching
// eventgate.ErrClosed) and when ctx has already ended (wrapping ctx.Err()).
func (t *File) Send(ctx context.Context, ev *eventgate.Event) error {
	evs := [1]*eventgate.Event{ev}
	err := t.SendBatch(ctx, evs[:])
	var be *eventgate.BatchError
	if errors.As(err, &be) {
		return be.ErrorAt(0)
	}
	return err
}

// SendBatch appends one line per event, with one write call. Events that
// cannot be encoded (nil, invalid Data) are reported in an
// *eventgate.BatchError and the others are written; any other error means
// none of the batch was written. An empty batch writes nothing.
func (t *File) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return eventgate.NewError(t.cfg.name, eventgate.KindClosed, errors.New("transport closed"))
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(t.cfg.name, err)
	}
	start := len(t.pending)
	var failed map[int]error
	for i, ev := range evs {
		var err error
		if t.pending, err = appendFileLine(t.pending, ev); err != nil {
			if failed == nil {
				failed = make(map[int]error)
			}
			failed[i] = t.encodeError(ev, err)
		}
	}
	if len(t.pending) > start && (t.cfg.sync != FileSyncBuffered || len(t.pending) >= t.cfg.buffer) {
		if err := t.flushLocked(t.cfg.sync == FileSyncFsync); err != nil {
			if len(t.pending) > 0 { // nothing reached the file: forget this call's lines
				t.pending = t.pending[:start]
			}
			return err
		}
	}
	if failed != nil {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

func (t *File) encodeError(ev *eventgate.Event, err error) error {
	if ev == nil {
		return eventgate.NewError(t.cfg.name, eventgate.KindRejected, err)
	}
	return eventgate.NewError(t.cfg.name, eventgate.KindSerialization, fmt.Errorf("file: event %s: %w", ev.ID, err))
}

// appendFileLine appends ev's line to dst. On error dst is returned
// unchanged.
func appendFileLine(dst []byte, ev *eventgate.Event) ([]byte, error) {
	if ev == nil {
		return dst, errors.New("file: nil event")
	}
	if len(ev.Data) > 0 {
		if err := ev.CheckData(); err != nil {
			return dst, err
		}
		if bytes.ContainsAny(ev.Data, "\r\n") {
			var b bytes.Buffer
			if err := json.Compact(&b, ev.Data); err != nil {
				return dst, fmt.Errorf("compact data: %w", err)
			}
			c := *ev
			c.Data = b.Bytes()
			ev = &c
		}
	}
	dst = eventgate.AppendJSON(dst, ev)
	return append(dst, '\n'), nil
}

// flushLocked writes t.pending to the file with one write call, rotating
// first when the write would take the file past the size limit, and syncs
// the file when sync is set. After a failed write the file is truncated back
// and t.pending is kept; after a failed fsync the lines are in the file and
// t.pending is emptied.
func (t *File) flushLocked(sync bool) error {
	if len(t.pending) == 0 {
		return nil
	}
	if t.f == nil {
		if err := t.openLocked(); err != nil {
			return err
		}
	}
	if t.cfg.maxSize > 0 && t.size > 0 && t.size+int64(len(t.pending)) > t.cfg.maxSize {
		if err := t.rotateLocked(); err != nil {
			return err
		}
	}
	if t.torn {
		n, err := t.f.Write([]byte{'\n'})
		t.size += int64(n)
		if err != nil {
			return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: write %s: %w", t.path, err))
		}
		t.torn = false
	}
	n, err := t.f.Write(t.pending)
	if err != nil {
		if n > 0 && !t.special {
			if terr := t.f.Truncate(t.size); terr != nil {
				t.size += int64(n)
				t.torn = true
			}
		}
		return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: write %s: %w", t.path, err))
	}
	t.size += int64(n)
	if cap(t.pending) > 4*max(t.cfg.buffer, DefaultFileBuffer) {
		t.pending = nil // do not hold on to the memory of one huge batch
	} else {
		t.pending = t.pending[:0]
	}
	if sync && !t.special {
		if err := t.f.Sync(); err != nil {
			return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: fsync %s: %w", t.path, err))
		}
	}
	return nil
}

// rotateLocked renames the current file aside and opens a new one at t.path.
func (t *File) rotateLocked() error {
	if t.special {
		return nil // a device is never rotated
	}
	if err := t.f.Sync(); err != nil {
		return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: fsync %s before rotation: %w", t.path, err))
	}
	if err := t.f.Close(); err != nil {
		t.f = nil
		return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: close %s for rotation: %w", t.path, err))
	}
	t.f = nil
	aside := t.rotatedName(time.Now())
	if err := os.Rename(t.path, aside); err != nil {
		return eventgate.Wrap(t.cfg.name, fmt.Errorf("file: rotate %s: %w", t.path, err))
	}
	if err := t.openLocked(); err != nil {
		return err
	}
	if t.cfg.maxBackups > 0 {
		t.pruneLocked()
	}
	return nil
}

const fileStampLayout = "20060102T150405.000000000Z"

func (t *File) splitName() (dir, stem, ext string) {
	dir, base := filepath.Split(t.path)
	ext = filepath.Ext(base)
	return dir, strings.TrimSuffix(base, ext), ext
}

func (t *File) rotatedName(now time.Time) string {
	dir, stem, ext := t.splitName()
	name := filepath.Join(dir, stem+"-"+now.UTC().Format(fileStampLayout)+ext)
	for i := 1; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			return name
		}
		name = filepath.Join(dir, stem+"-"+now.UTC().Format(fileStampLayout)+"-"+strconv.Itoa(i)+ext)
	}
}

// Rotated returns the paths of the rotated files of this File's path, oldest
// first.
func (t *File) Rotated() ([]string, error) {
	dir, stem, ext := t.splitName()
	if dir == "" {
		dir = "."
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("file: list rotated files: %w", err)
	}
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, stem+"-") || !strings.HasSuffix(n, ext) || len(n) < len(stem)+1+len(fileStampLayout)+len(ext) {
			continue
		}
		if _, err := time.Parse(fileStampLayout, n[len(stem)+1:len(stem)+1+len(fileStampLayout)]); err != nil {
			continue
		}
		out = append(out, filepath.Join(dir, n))
	}
	slices.SortFunc(out, compareRotated)
	return out, nil
}

// compareRotated orders rotated names by stamp, then by collision counter.
func compareRotated(a, b string) int {
	if len(a) != len(b) {
		if strings.HasPrefix(b, strings.TrimSuffix(a, filepath.Ext(a))) {
			return -1
		}
		if strings.HasPrefix(a, strings.TrimSuffix(b, filepath.Ext(b))) {
			return 1
		}
	}
	return strings.Compare(a, b)
}

// pruneLocked deletes the oldest rotated files beyond the configured number.
// A file that cannot be deleted is left for the next rotation to retry; it
// costs disk space, never events.
func (t *File) pruneLocked() {
	rotated, err := t.Rotated()
	if err != nil {
		return
	}
	for len(rotated) > t.cfg.maxBackups {
		_ = os.Remove(rotated[0])
		rotated = rotated[1:]
	}
}

// Flush writes the buffered lines to the file (only FileSyncBuffered buffers
// between calls) and, under FileSyncFsync, syncs it. It fails after Close.
func (t *File) Flush(ctx context.Context) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return eventgate.NewError(t.cfg.name, eventgate.KindClosed, errors.New("transport closed"))
	}
	if err := ctx.Err(); err != nil {
		return eventgate.Wrap(t.cfg.name, err)
	}
	return t.flushLocked(t.cfg.sync == FileSyncFsync)
}

// Close writes the buffered lines, syncs the file to stable storage and
// closes it; later calls fail with an error matching eventgate.ErrClosed. It
// waits for calls in progress. When the buffered lines cannot be written,
// the error says how many bytes were lost. Close is idempotent: later calls
// return nil.
func (t *File) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil
	}
	t.closed = true
	var errs []error
	if err := t.flushLocked(false); err != nil {
		errs = append(errs, fmt.Errorf("file: %d buffered bytes not written: %w", len(t.pending), err))
	}
	t.pending = nil
	if t.f != nil {
		if err := t.f.Sync(); err != nil && !t.special {
			errs = append(errs, fmt.Errorf("file: fsync %s: %w", t.path, err))
		}
		if err := t.f.Close(); err != nil {
			errs = append(errs, fmt.Errorf("file: close %s: %w", t.path, err))
		}
		t.f = nil
	}
	return eventgate.Wrap(t.cfg.name, errors.Join(errs...))
}
