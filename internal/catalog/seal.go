package catalog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// A seal is a small file beside the catalog, written by a clean Close: the
// catalog file's size and CRC-32C after a full checkpoint. An Open that finds
// a seal matching the file knows the file is exactly as Close left it, so it
// needs no structural check (SQLite's quick_check reads and checks every
// page, which takes seconds at a million sessions; the checksum reads the
// file once, at memory speed). Open removes the seal before anything writes,
// so a seal never describes a catalog that changed after it; a missing seal
// (a crash) means a full check, and a seal that does not match (a flipped
// byte, a cut file) means damage.

const sealMagic = "eventgate-catalog-seal 1"

func sealPath(path string) string { return path + ".seal" }

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// fileSum returns the size and CRC-32C of the file at path.
func fileSum(path string) (int64, uint32, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	n, err := io.CopyBuffer(h, bufio.NewReaderSize(f, 1<<20), make([]byte, 1<<20))
	if err != nil {
		return 0, 0, err
	}
	return n, h.Sum32(), nil
}

// checkSeal compares the seal of the catalog at path with the file. It
// returns sealed true when they match, an error matching ErrDamaged when a
// seal is there and does not match, and sealed false with no error when
// there is no seal (or the catalog has a WAL to replay, which a clean Close
// never leaves).
func checkSeal(path string) (sealed bool, err error) {
	b, err := os.ReadFile(sealPath(path))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("catalog: read seal: %w", err)
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil // a stale seal: the catalog is created anew
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return false, nil
	}
	f := strings.Fields(string(b))
	if len(f) != 4 || strings.Join(f[:2], " ") != sealMagic {
		return false, fmt.Errorf("%w: seal %s is not a seal", ErrDamaged, filepath.Base(sealPath(path)))
	}
	size, err1 := strconv.ParseInt(f[2], 10, 64)
	sum, err2 := strconv.ParseUint(f[3], 16, 32)
	if err1 != nil || err2 != nil {
		return false, fmt.Errorf("%w: seal %s is not a seal", ErrDamaged, filepath.Base(sealPath(path)))
	}
	n, got, err := fileSum(path)
	if err != nil {
		return false, fmt.Errorf("catalog: check seal: %w", err)
	}
	if n != size || got != uint32(sum) {
		return false, fmt.Errorf("%w: the file changed after its last clean close (%d bytes, CRC-32C %08x; sealed %d bytes, %08x)",
			ErrDamaged, n, got, size, uint32(sum))
	}
	return true, nil
}

// writeSeal seals the catalog file at path as it is now.
func writeSeal(path string, durable bool) error {
	n, sum, err := fileSum(path)
	if err != nil {
		return fmt.Errorf("catalog: seal: %w", err)
	}
	tmp := sealPath(path) + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("catalog: seal: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s %d %08x\n", sealMagic, n, sum)
	if err == nil && durable {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, sealPath(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("catalog: seal: %w", err)
	}
	return nil
}

// removeSeal removes the catalog's seal before the catalog changes.
func removeSeal(path string) error {
	if err := os.Remove(sealPath(path)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("catalog: remove seal: %w", err)
	}
	return nil
}

// checkpoint moves the WAL into the catalog file and empties it.
func (c *Catalog) checkpoint(ctx context.Context) error {
	var busy, logFrames, done int
	if err := c.db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		return fmt.Errorf("catalog: checkpoint: %w", err)
	}
	if busy != 0 {
		return fmt.Errorf("catalog: checkpoint: a reader holds the log")
	}
	return nil
}
