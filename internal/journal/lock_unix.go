//go:build unix

package journal

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ErrLocked is returned by Open when another process holds the journal.
var ErrLocked = errors.New("journal: locked by another process")

// dirLock is what a process holds while it has the journal open.
type dirLock struct {
	dir  *os.File // flock'd: the lock that counts
	file *os.File // LOCK, flock'd too, as earlier versions expect
}

// lockDir takes an exclusive flock on the journal directory itself, so that
// no file an operator deletes (a "stale" LOCK file, say) can release it: the
// lock lives as long as this process's descriptor of the directory. It also
// flocks the LOCK file, which earlier versions lock.
func lockDir(dir string) (*dirLock, error) {
	d, err := flockPath(dir, os.O_RDONLY, dir)
	if err != nil {
		return nil, err
	}
	f, err := flockPath(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, dir)
	if err != nil {
		unflock(d)
		return nil, err
	}
	return &dirLock{dir: d, file: f}, nil
}

func flockPath(path string, flag int, dir string) (*os.File, error) {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("journal: open %s to lock it: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
		}
		return nil, fmt.Errorf("journal: lock %s: %w", path, err)
	}
	return f, nil
}

func unflock(f *os.File) {
	_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	_ = f.Close()
}

func unlockDir(l *dirLock) {
	unflock(l.file)
	unflock(l.dir)
}

// syncDir fsyncs a directory so that entries created or renamed in it survive
// a crash.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("journal: open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("journal: fsync dir %s: %w", dir, err)
	}
	return nil
}
