//go:build linux

package sessions

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the files and directories written under dir durable. On
// Linux one syncfs(2) of dir's file system replaces an fsync per file: a busy
// gateway writes to thousands of session files between commits.
func syncFiles(dir string, paths []string) error {
	if len(paths) == 0 {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sessions: syncfs: %w", err)
	}
	defer d.Close()
	if err := unix.Syncfs(int(d.Fd())); err != nil {
		return fmt.Errorf("sessions: syncfs: %w", err)
	}
	return nil
}
