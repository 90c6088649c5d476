package sessions

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// The high-water mark. The projector writes lines to the session files
// ahead of its durable journal cursor, so a power cut under a relaxed sync
// mode can leave lines in the files whose records the journal lost. The
// journal must then not give those seqs to new records: a session file
// would hold two events of one seq, and the projector, taking the new
// records for ones it had written, would leave them out.
//
// So before the projector buffers a line of seq s it makes sure that a
// durable mark above s is on disk: it writes one highWaterStep seqs ahead
// at a time (one small synced write per 65,536 records), and the exact
// mark at a clean stop. Each mark names the boot it was written in.
//
// Only a machine that stopped without a clean shutdown (a power cut, a
// kernel crash) can lose journal records the projector read: the journal
// publishes records to its readers only once they are written to the OS
// (and, under SyncAlways, fsynced), and a process crash loses nothing the
// OS holds. So the Gateway passes the mark to the journal as its floor only
// under a relaxed sync mode and when the mark is from another boot: new
// seqs then start above every line that may have been written, and the
// seqs skipped (at most highWaterStep) are reported as possibly lost.

const (
	highWaterStep  = 1 << 16
	highWaterMagic = "eventgate-session-high-water 1"
)

func highWaterPath(dir string) string { return filepath.Join(dir, ".eventgate", "sessions.hwm") }

// HighWater returns the seq that every line in the session files under dir
// is below (0 when no mark was written), and whether the mark was written
// in another boot of the machine than this one (always true where the boot
// cannot be told). A mark that cannot be read is an error: the caller
// decides whether to go on without it.
func HighWater(dir string) (seq uint64, otherBoot bool, err error) {
	b, err := os.ReadFile(highWaterPath(dir))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("sessions: read the high-water mark: %w", err)
	}
	rest, ok := strings.CutPrefix(strings.TrimSpace(string(b)), highWaterMagic+" ")
	f := strings.Fields(rest)
	if !ok || len(f) != 2 {
		return 0, false, fmt.Errorf("sessions: the high-water mark %s is damaged: %q", highWaterPath(dir), b)
	}
	n, perr := strconv.ParseUint(f[0], 10, 64)
	if perr != nil {
		return 0, false, fmt.Errorf("sessions: the high-water mark %s is damaged: %q", highWaterPath(dir), b)
	}
	boot := bootID()
	return n, boot == "" || f[1] != boot, nil
}

// bootID names this boot of the machine ("" where it cannot be told).
func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeHighWater durably records that every line is below seq.
func writeHighWater(dir string, seq uint64) error {
	path := highWaterPath(dir)
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("sessions: write the high-water mark: %w", err)
	}
	_, err = fmt.Fprintf(f, "%s %d %s\n", highWaterMagic, seq, cmp.Or(bootID(), "-"))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("sessions: write the high-water mark: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// reserve makes sure the durable high-water mark is above seq before a line
// of seq is buffered.
func (p *Projector) reserve(seq uint64) error {
	if seq < p.reserved {
		return nil
	}
	next := seq + highWaterStep
	if err := writeHighWater(p.cfg.Dir, next); err != nil {
		return err
	}
	p.reserved = next
	return nil
}
