package eventgate

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/eventgate/eventgate/internal/journal"
)

// Issue 12, scenario 2: an operator deleting the LOCK file ("a stale lock")
// does not let a second Gateway open the same directory.
func TestSecondOpenRefusedAfterLockFileDeleted(t *testing.T) {
	dir := t.TempDir()
	gw, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Close(context.Background())
	if err := os.Remove(filepath.Join(dir, ".eventgate", "journal", "LOCK")); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	gw2, err := Open(dir)
	if err == nil {
		_ = gw2.Close(context.Background())
		t.Fatal("a second Gateway opened the directory after LOCK was deleted")
	}
	if !errors.Is(err, journal.ErrLocked) {
		t.Fatalf("second open: %v, want ErrLocked", err)
	}
}
