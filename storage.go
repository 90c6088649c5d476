package eventgate

import (
	"errors"
	"fmt"

	"github.com/eventgate/eventgate/internal/journal"
)

// ErrStorage is matched by the error Log and LogBatch return when the journal
// cannot write: a full disk, a failing device. The journal retries by itself
// and accepts events again once a write succeeds; see Gateway.StorageError.
// Under SyncAlways nothing of the failed call was recorded. errors.Is also
// matches the file system's own error (syscall.ENOSPC for a full disk).
var ErrStorage = errors.New("eventgate: storage unavailable")

// WithWriteFault makes every write to the journal call fault first, with the
// number of bytes about to be written; a non-nil error fails the write as the
// device would, with nothing written (return an error wrapping
// syscall.ENOSPC to play a full disk). It exists to test how producers,
// operators and health checks live through storage failures. Default none.
func WithWriteFault(fault func(n int) error) Option {
	return func(c *config) { c.writeFault = fault }
}

// StorageError returns why the journal cannot record events now, or nil: a
// write failure it is retrying (ErrStorage matches it), or a failure that
// stopped it for good.
func (g *Gateway) StorageError() error {
	if err := g.j.Err(); err != nil {
		return fmt.Errorf("eventgate: journal stopped: %w", err)
	}
	if err := g.j.Stalled(); err != nil {
		return fmt.Errorf("%w: %w", ErrStorage, err)
	}
	return nil
}

// logError wraps a journal error of Log or LogBatch.
func logError(err error) error {
	var we *journal.WriteError
	if errors.As(err, &we) {
		return fmt.Errorf("eventgate: log: %w: %w", ErrStorage, err)
	}
	return fmt.Errorf("eventgate: log: %w", err)
}
