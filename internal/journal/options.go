package journal

import (
	"log/slog"
	"os"
	"time"
)

// SyncMode says when appended records are forced to stable storage.
type SyncMode uint8

const (
	// SyncAlways: Append returns after the record is written and fsynced.
	// Concurrent appends share one write and one fsync (group commit).
	SyncAlways SyncMode = iota
	// SyncInterval: Append returns once the record is in the journal's
	// buffer; the buffer is written continuously and fsynced every
	// Options.SyncEvery. A crash may lose what was appended in the last
	// interval.
	SyncInterval
	// SyncNever: as SyncInterval, but the journal fsyncs only on Close. A
	// process crash may lose what was still buffered; a machine crash may
	// lose anything the OS had not yet written back.
	SyncNever
)

// Options configure a Journal. The zero value is valid: SyncAlways, 64 MiB
// segments, 16 MiB records, 8 MiB of buffered appends.
type Options struct {
	Sync      SyncMode
	SyncEvery time.Duration // SyncInterval's period; default 100ms
	// SegmentSize is the size at which the active segment is closed and a
	// new one started. Default 64 MiB.
	SegmentSize int64
	// MaxRecordSize bounds one record's payload. Default 16 MiB; at most 1 GiB.
	MaxRecordSize int
	// MaxBuffer is how many bytes of appended, unwritten frames make Append
	// wait for the writer under SyncInterval and SyncNever. Default 8 MiB.
	MaxBuffer int
	// Logger receives recovery and failure reports. Default: discard.
	Logger *slog.Logger
	// Floor is a seq the next append gets at least, as a saved cursor
	// raises it: a seq that something outside the journal has already
	// used (its readers' durable high-water marks). 0 = none.
	Floor uint64
	// FloorBy names what Floor comes from, for Recovery.RaisedBy and the
	// log.
	FloorBy string
	// WriteFault, when set, is called before every write of n bytes to a
	// journal file; a non-nil error fails that write as the device would
	// (wrap syscall.ENOSPC for a full disk), with nothing written. It exists
	// to test how callers live through storage failures. Default none.
	WriteFault func(n int) error

	// openFile opens segment files; tests replace it to inject failures.
	openFile func(name string, flag int, perm os.FileMode) (segmentFile, error)
}

func (o *Options) withDefaults() Options {
	c := *o
	if c.SyncEvery <= 0 {
		c.SyncEvery = 100 * time.Millisecond
	}
	if c.SegmentSize <= 0 {
		c.SegmentSize = 64 << 20
	}
	if c.MaxRecordSize <= 0 {
		c.MaxRecordSize = 16 << 20
	}
	c.MaxRecordSize = min(c.MaxRecordSize, maxRecordLimit)
	if c.MaxBuffer <= 0 {
		c.MaxBuffer = 8 << 20
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.openFile == nil {
		c.openFile = func(name string, flag int, perm os.FileMode) (segmentFile, error) {
			return os.OpenFile(name, flag, perm)
		}
	}
	if c.WriteFault != nil {
		c.openFile = faultyOpen(c.openFile, c.WriteFault)
	}
	return c
}

// segmentFile is what the journal needs of an open segment.
type segmentFile interface {
	Write(p []byte) (int, error)
	ReadAt(p []byte, off int64) (int, error)
	Sync() error
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Close() error
}
