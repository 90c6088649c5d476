package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/internal/sessions"
)

func (a *app) rebuildSessionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild-session <session>",
		Short: "Rewrite a session's damaged files from the journal (with the daemon stopped)",
		Long: `rebuild-session finds the files of a session that hold damaged lines and rewrites each
from the journal's records, while the journal still holds them; good lines whose records the
journal no longer has are kept. It takes the data directory's lock, so it refuses to run while
a daemon has the directory open. It exits 1 when a file could not be rebuilt.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.rebuildSession(args[0])
		},
	}
}

func (a *app) rebuildSession(id string) error {
	if err := eventgate.ValidateSessionID(id); err != nil {
		return &exitError{code: 2, err: err}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	dir := cfg.DataDir()
	st := sessions.NewStore(dir, eventgate.ValidateSessionID, nil)
	damaged, err := st.DamagedFiles(id)
	if err != nil {
		return err
	}
	if len(damaged) == 0 {
		fmt.Fprintf(a.stdout, "session %s: no damaged file\n", id)
		return nil
	}
	j, _, err := journal.Open(filepath.Join(dir, ".eventgate", "journal"), journal.Options{})
	if err != nil {
		return lockedHint(fmt.Errorf("open the journal: %w", err))
	}
	defer j.Close()
	var failures int
	for _, first := range damaged {
		res, err := sessions.RebuildFile(a.ctx, dir, j, id, first)
		if err != nil {
			failures++
			if errors.Is(err, sessions.ErrNotInJournal) {
				fmt.Fprintf(a.stderr, "eventgate: %v; its damaged lines cannot be recovered\n", err)
			} else {
				fmt.Fprintf(a.stderr, "eventgate: %v\n", err)
			}
			continue
		}
		fmt.Fprintf(a.stdout, "session %s: %s rebuilt: %d lines (%d from the journal); it had %d damaged\n",
			id, res.File, res.Lines, res.FromJournal, res.Damaged)
		if res.SizeChanged {
			fmt.Fprintf(a.stdout, "session %s: %s changed size; the session catalog's figures for it are stale until the catalog is rebuilt\n", id, res.File)
		}
	}
	if failures > 0 {
		return failed("%d of %d damaged files of session %s not rebuilt", failures, len(damaged), id)
	}
	return nil
}
