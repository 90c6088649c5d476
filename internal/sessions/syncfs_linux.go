//go:build linux

package sessions

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// syncFiles makes the written data of files, which all live under dir,
// durable. On Linux one syncfs(2) of dir's file system replaces an fsync per
// file: a busy gateway writes to hundreds of session files between commits.
func syncFiles(dir string, files []*os.File) error {
	if len(files) == 0 {
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
