package journal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// Position is a place in the journal: the seq of the next record to read, and
// where that record starts (segment and byte offset).
type Position struct {
	Seq    uint64
	Seg    uint64
	Offset int64
}

const cursorSize = 8 + 8 + 8 + 4

func cursorPath(dir, name string) string {
	return filepath.Join(dir, "cursors", name+".cur")
}

func encodeCursor(p Position) []byte {
	b := make([]byte, 0, cursorSize)
	b = binary.LittleEndian.AppendUint64(b, p.Seq)
	b = binary.LittleEndian.AppendUint64(b, p.Seg)
	b = binary.LittleEndian.AppendUint64(b, uint64(p.Offset))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCursor(b []byte) (Position, error) {
	if len(b) != cursorSize {
		return Position{}, fmt.Errorf("%w: cursor of %d bytes", ErrCorrupt, len(b))
	}
	if crc32.Checksum(b[:24], castagnoli) != binary.LittleEndian.Uint32(b[24:]) {
		return Position{}, fmt.Errorf("%w: cursor checksum mismatch", ErrCorrupt)
	}
	return Position{
		Seq:    binary.LittleEndian.Uint64(b[0:]),
		Seg:    binary.LittleEndian.Uint64(b[8:]),
		Offset: int64(binary.LittleEndian.Uint64(b[16:])),
	}, nil
}

// loadCursor returns the saved position of reader name, or ok=false when it
// has none.
func loadCursor(dir, name string) (Position, bool, error) {
	b, err := os.ReadFile(cursorPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("journal: read cursor %s: %w", name, err)
	}
	p, err := decodeCursor(b)
	if err != nil {
		return Position{}, false, fmt.Errorf("journal: cursor %s: %w", name, err)
	}
	return p, true, nil
}

// saveCursor replaces the saved position atomically: write a temporary file,
// fsync it, rename it over the old one.
func saveCursor(dir, name string, p Position) error {
	path := cursorPath(dir, name)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("journal: save cursor %s: %w", name, err)
	}
	if _, err := f.Write(encodeCursor(p)); err != nil {
		_ = f.Close()
		return fmt.Errorf("journal: save cursor %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("journal: save cursor %s: fsync: %w", name, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("journal: save cursor %s: %w", name, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("journal: save cursor %s: %w", name, err)
	}
	// The directory is not fsynced: after a crash the rename may be lost and
	// the previous cursor found, which only means re-reading a little.
	return nil
}
