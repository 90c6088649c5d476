package route

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DeadLetter is one entry of a route's dead letters: an event the route gave
// up on, or a range of events it dropped to respect its backlog bound.
type DeadLetter struct {
	Seq      uint64          `json:"seq,omitempty"`
	Event    json.RawMessage `json:"event,omitempty"`
	Error    string          `json:"error"`
	Kind     string          `json:"kind,omitempty"`
	Attempts int             `json:"attempts,omitempty"`
	First    time.Time       `json:"first_attempt,omitzero"`
	At       time.Time       `json:"at"`
	Dropped  *DroppedRange   `json:"dropped,omitempty"`
	Damaged  *DamagedRange   `json:"damaged,omitempty"`
}

// DamagedRange describes records the journal lost (damaged bytes, or seqs
// missing after a restart) that the route therefore never delivered.
type DamagedRange struct {
	FromSeq    uint64 `json:"from_seq"`
	ToSeq      uint64 `json:"to_seq"`
	Count      uint64 `json:"count"`
	Segment    uint64 `json:"segment"`
	Offset     int64  `json:"offset"`
	Bytes      int64  `json:"bytes"`
	Reason     string `json:"reason"`
	Quarantine string `json:"quarantine,omitempty"`
}

// DroppedRange describes events dropped without delivery.
type DroppedRange struct {
	FromSeq uint64 `json:"from_seq"`
	ToSeq   uint64 `json:"to_seq"`
	Count   uint64 `json:"count"`
	Bytes   int64  `json:"bytes"`
}

// deadStore appends dead letters to <dir>/dead.jsonl, one JSON object per
// line, fsynced before the route moves past them.
type deadStore struct {
	mu   sync.Mutex
	dir  string
	path string
	f    *os.File
	n    int // entries in the file
}

func openDeadStore(dir string) (*deadStore, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("route: dead letters: %w", err)
	}
	d := &deadStore{dir: dir, path: filepath.Join(dir, "dead.jsonl")}
	entries, err := d.read()
	if err != nil {
		return nil, err
	}
	d.n = len(entries)
	return d, nil
}

func (d *deadStore) add(entries ...DeadLetter) error {
	var buf bytes.Buffer
	for _, e := range entries {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("route: encode dead letter: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		f, err := os.OpenFile(d.path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("route: open dead letters: %w", err)
		}
		d.f = f
	}
	if _, err := d.f.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("route: write dead letters: %w", err)
	}
	if err := d.f.Sync(); err != nil {
		return fmt.Errorf("route: fsync dead letters: %w", err)
	}
	d.n += len(entries)
	return nil
}

func (d *deadStore) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.n
}

func (d *deadStore) list() ([]DeadLetter, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.read()
}

func (d *deadStore) read() ([]DeadLetter, error) {
	f, err := os.Open(d.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("route: read dead letters: %w", err)
	}
	defer f.Close()
	var out []DeadLetter
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e DeadLetter
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// A torn last line after a crash: the entry was never acknowledged,
			// so the route will produce it again.
			continue
		}
		out = append(out, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("route: read dead letters: %w", err)
	}
	return out, nil
}

// rewrite replaces the file's content with keep, atomically.
func (d *deadStore) rewrite(keep []DeadLetter) error {
	var buf bytes.Buffer
	for _, e := range keep {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("route: encode dead letter: %w", err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	tmp := d.path + ".tmp"
	if err := writeFileSync(tmp, buf.Bytes()); err != nil {
		return err
	}
	if d.f != nil {
		_ = d.f.Close()
		d.f = nil
	}
	if err := os.Rename(tmp, d.path); err != nil {
		return fmt.Errorf("route: replace dead letters: %w", err)
	}
	d.n = len(keep)
	return nil
}

func (d *deadStore) close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.f == nil {
		return nil
	}
	err := d.f.Close()
	d.f = nil
	return err
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("route: write %s: %w", filepath.Base(path), err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return fmt.Errorf("route: write %s: %w", filepath.Base(path), err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("route: fsync %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}
