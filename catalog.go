package eventgate

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/sessions"
)

// CatalogPath returns where the session catalog of the Gateway directory dir
// is kept.
func CatalogPath(dir string) string { return filepath.Join(dir, ".eventgate", "catalog.db") }

// openCatalog opens dir's session catalog, rebuilding it from the session
// files when it is missing, was cut short, or is damaged. A damaged catalog
// costs a rebuild and a warning, never an event: the session files are the
// record.
func openCatalog(ctx context.Context, dir string, cfg *config) (*catalog.Catalog, error) {
	path := CatalogPath(dir)
	opts := catalog.Options{Durable: cfg.sync.mode != SyncNever.mode}
	c, err := catalog.Open(ctx, path, opts)
	if err == nil {
		err = usable(ctx, c)
		if err != nil {
			_ = c.Close()
		}
	}
	if err == nil {
		return c, nil
	}
	if !errors.Is(err, catalog.ErrDamaged) && !errors.Is(err, errIncomplete) {
		return nil, fmt.Errorf("eventgate: session catalog: %w", err)
	}
	if errors.Is(err, catalog.ErrDamaged) {
		cfg.logger.Warn("session catalog damaged; rebuilding it from the session files", "err", err)
	}
	if err := catalog.Remove(path); err != nil {
		return nil, fmt.Errorf("eventgate: session catalog: %w", err)
	}
	if c, err = catalog.Open(ctx, path, opts); err != nil {
		return nil, fmt.Errorf("eventgate: session catalog: %w", err)
	}
	start := time.Now()
	rep, err := sessions.Rebuild(ctx, dir, ValidateSessionID, c, cfg.rebuildProgress)
	if err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("eventgate: %w", err)
	}
	if rep.Sessions > 0 || rep.Damaged > 0 {
		cfg.logger.Info("session catalog rebuilt", "sessions", rep.Sessions, "events", rep.Events,
			"damaged_lines", rep.Damaged, "took", time.Since(start).Round(time.Millisecond))
	}
	return c, nil
}

var errIncomplete = errors.New("catalog incomplete")

// usable checks that c holds every session and, unless it is sealed as its
// last clean close left it, that it passes SQLite's quick check.
func usable(ctx context.Context, c *catalog.Catalog) error {
	if !c.Sealed() {
		if err := c.Check(ctx); err != nil {
			return err
		}
	}
	ok, err := c.Complete(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return errIncomplete
	}
	return nil
}

// OpenSessionCatalog opens the session catalog of the Gateway directory dir
// read-only, for a process that lists sessions beside a running Gateway (it
// never creates or changes anything). The error matches fs.ErrNotExist when
// there is no catalog, and the catalog is nil when it is not complete.
func openCatalogReadOnly(ctx context.Context, dir string) (*catalog.Catalog, error) {
	c, err := catalog.Open(ctx, CatalogPath(dir), catalog.Options{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	if ok, err := c.Complete(ctx); err != nil || !ok {
		_ = c.Close()
		if err == nil {
			err = errIncomplete
		}
		return nil, err
	}
	return c, nil
}
