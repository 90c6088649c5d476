package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"
)

// DamageReport is one entry of the journal's damage register: a range found
// damaged (by recovery, a reader or verify), and whether an operator has
// acknowledged it.
type DamageReport struct {
	Damage
	FoundBy      string    `json:"found_by"` // "recovery", or the reader's name
	At           time.Time `json:"at"`
	Acknowledged bool      `json:"acknowledged,omitempty"`
}

// DamageError is returned by Reader.Next and TryNext when the reader met
// damaged or missing records. The reader has already moved past them: the
// caller records what was lost and goes on reading. End is the position to
// commit once the loss is recorded.
type DamageError struct {
	Reader string
	Damage
	End Position
}

func (e *DamageError) Error() string {
	lost := "no records"
	if n := e.Lost(); n > 0 {
		lost = fmt.Sprintf("%d record(s), seqs %d to %d", n, e.FromSeq, e.ToSeq)
	}
	return fmt.Sprintf("journal: reader %s: segment %d offset %d (%d bytes): %s; lost %s",
		e.Reader, e.Segment, e.Offset, e.Length, e.Reason, lost)
}

// damageFile is the register, in the journal directory: a JSON array of
// DamageReport, replaced atomically on every change.
const damageFile = "damage.json"

// damageLog is the journal's damage register. Entries are unique by segment
// and offset, so a range met by several readers (or at every open) is
// reported once and, once acknowledged, stays acknowledged.
type damageLog struct {
	mu      sync.Mutex
	path    string
	entries []DamageReport
	index   map[damageKey]int
	lost    uint64 // records lost, over entries added since open
	ranges  uint64 // entries added since open
}

func (l *damageLog) load(dir string) error {
	l.path = filepath.Join(dir, damageFile)
	l.index = make(map[damageKey]int)
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("journal: read damage register: %w", err)
	}
	if err := json.Unmarshal(b, &l.entries); err != nil {
		// The register is a report, not the truth: start a new one rather
		// than refuse to open, and keep the old bytes for the operator.
		_ = os.Rename(l.path, l.path+".unreadable")
		l.entries = nil
	}
	for i, e := range l.entries {
		l.index[e.key()] = i
	}
	return nil
}

// add records d unless the register has it. It reports whether d is new.
func (l *damageLog) add(d Damage, by string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.index[d.key()]; ok {
		return false, nil
	}
	l.index[d.key()] = len(l.entries)
	l.entries = append(l.entries, DamageReport{Damage: d, FoundBy: by, At: time.Now().UTC()})
	l.ranges++
	l.lost += d.Lost()
	return true, l.saveLocked()
}

func (l *damageLog) has(k damageKey) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.index[k]
	return ok
}

func (l *damageLog) saveLocked() error {
	b, err := json.MarshalIndent(l.entries, "", "  ")
	if err != nil {
		return fmt.Errorf("journal: encode damage register: %w", err)
	}
	if err := writeFileAtomic(l.path, append(b, '\n')); err != nil {
		return fmt.Errorf("journal: save damage register: %w", err)
	}
	return nil
}

func (l *damageLog) list() []DamageReport {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.entries)
}

func (l *damageLog) unacked() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.entries {
		if !e.Acknowledged {
			n++
		}
	}
	return n
}

func (l *damageLog) ack() (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for i := range l.entries {
		if !l.entries[i].Acknowledged {
			l.entries[i].Acknowledged = true
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	return n, l.saveLocked()
}

// DamageStats are the damage register's figures.
type DamageStats struct {
	Unacknowledged int    // entries no operator has acknowledged
	Ranges         uint64 // entries added since Open
	LostRecords    uint64 // records those entries lost
}

// Damaged returns the damage register: every damaged or missing range found
// in this journal, acknowledged or not, oldest first.
func (j *Journal) Damaged() []DamageReport { return j.damage.list() }

// DamageStats returns the damage register's figures.
func (j *Journal) DamageStats() DamageStats {
	n := j.damage.unacked()
	j.damage.mu.Lock()
	defer j.damage.mu.Unlock()
	return DamageStats{Unacknowledged: n, Ranges: j.damage.ranges, LostRecords: j.damage.lost}
}

// AckDamage marks every entry of the damage register acknowledged and
// returns how many were not.
func (j *Journal) AckDamage() (int, error) { return j.damage.ack() }

// noteDamage quarantines d's bytes, adds d to the register and logs it at
// ERROR the first time it is found. It returns d with its quarantine file.
func (j *Journal) noteDamage(d Damage, by string) Damage {
	if d.Length > 0 {
		name, err := quarantine(j.dir, d)
		if err != nil {
			j.opts.Logger.Error("journal: cannot quarantine damaged bytes", "segment", d.Segment, "offset", d.Offset, "err", err)
		} else {
			d.Quarantine = name
		}
	}
	added, err := j.damage.add(d, by)
	if err != nil {
		j.opts.Logger.Error("journal: damage register", "err", err)
	}
	if added {
		j.opts.Logger.Error("journal: damaged records skipped", "found_by", by, "segment", d.Segment,
			"offset", d.Offset, "bytes", d.Length, "lost_records", d.Lost(), "from_seq", d.FromSeq,
			"to_seq", d.ToSeq, "reason", d.Reason, "quarantine", d.Quarantine)
	}
	return d
}

// quarantinePath is the file beside a segment that keeps a copy of its
// damaged bytes at off.
func quarantineName(seg uint64, off int64) string {
	return fmt.Sprintf("%020d%s.%d.quarantine", seg, segExt, off)
}

// quarantine copies d's bytes out of its segment into their quarantine file,
// unless that file exists, and returns the file's name.
func quarantine(dir string, d Damage) (string, error) {
	name := quarantineName(d.Segment, d.Offset)
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil {
		return name, nil
	}
	f, err := os.Open(segPath(dir, d.Segment))
	if err != nil {
		return "", fmt.Errorf("journal: quarantine: %w", err)
	}
	defer f.Close()
	b := make([]byte, d.Length)
	n, err := f.ReadAt(b, d.Offset)
	if n == 0 && err != nil {
		return "", fmt.Errorf("journal: quarantine: read segment %d: %w", d.Segment, err)
	}
	if err := writeFileAtomic(path, b[:n]); err != nil {
		return "", fmt.Errorf("journal: quarantine: %w", err)
	}
	return name, nil
}

// writeFileAtomic replaces path with b: a temporary file, fsynced, renamed.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// ReadDamage returns the damage register of the journal in dir without
// opening the journal (a running process may have it open).
func ReadDamage(dir string) ([]DamageReport, error) {
	var l damageLog
	if err := l.load(dir); err != nil {
		return nil, err
	}
	return l.list(), nil
}

// AckDamageIn acknowledges every entry of the damage register of the
// journal in dir, which no process may have open (ErrLocked otherwise).
func AckDamageIn(dir string) (int, error) {
	lock, err := lockDir(dir)
	if err != nil {
		return 0, err
	}
	defer unlockDir(lock)
	var l damageLog
	if err := l.load(dir); err != nil {
		return 0, err
	}
	return l.ack()
}
