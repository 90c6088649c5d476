//go:build !linux

package sessions

import (
	"fmt"
	"os"
)

// syncFiles makes the written data of files durable, one fsync each.
func syncFiles(_ string, files []*os.File) error {
	for _, f := range files {
		if err := f.Sync(); err != nil {
			return fmt.Errorf("sessions: fsync %s: %w", f.Name(), err)
		}
	}
	return nil
}
