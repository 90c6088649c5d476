//go:build !linux

package sessions

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// syncFiles makes the files and directories written under dir durable: one
// fsync of each, and of the directory of each new session directory.
func syncFiles(dir string, paths []string) error {
	for _, p := range paths {
		if err := fsyncPath(p); err != nil {
			return err
		}
		if fi, err := os.Stat(p); err == nil && fi.IsDir() {
			if err := fsyncPath(filepath.Dir(p)); err != nil {
				return err
			}
		}
	}
	return nil
}

func fsyncPath(p string) error {
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // deleted since it was written
	}
	if err != nil {
		return fmt.Errorf("sessions: fsync: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sessions: fsync %s: %w", p, err)
	}
	return nil
}
