package main

import (
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate/config"
)

func (a *app) checkCommand() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check -c <file>",
		Short: "Validate a configuration and connect to each of its transports",
		Long: `check validates the configuration (file and environment; status 2 when invalid),
then builds each transport and connects to it within --timeout, printing ok or the
error for each. The exit status is 1 when any transport failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "configuration ok: dir %s, sync %s, listen %s, %d token(s), %d transport(s)\n",
				cfg.DataDir(), cmpOr(cfg.Sync, "always"), cfg.ListenAddr(), len(cfg.Auth.Tokens), len(cfg.Transports))
			if terr := cfg.ResolveTokens(); terr != nil {
				// Only serve needs the secrets; say what it will miss.
				fmt.Fprintf(a.stdout, "note: serve will refuse to start until this is fixed: %v\n", terr)
			}
			res, err := cfg.Check(a.ctx, timeout)
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			for _, r := range res {
				status := "ok"
				detail := r.Duration.Round(time.Millisecond).String()
				if r.Err != nil {
					status, detail = "error", r.Err.Error()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", status, r.Name, r.URL, detail)
			}
			if ferr := tw.Flush(); ferr != nil {
				return ferr
			}
			if err != nil {
				return &exitError{code: 1, err: fmt.Errorf("%d transport(s) failed", countFailed(res))}
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", config.DefaultCheckTimeout, "bound on connecting to each transport")
	return cmd
}

func countFailed(res []config.CheckResult) int {
	n := 0
	for _, r := range res {
		if r.Err != nil {
			n++
		}
	}
	return n
}
