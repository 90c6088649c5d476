package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate/internal/loadgen"
)

func (a *app) benchLoadCommand() *cobra.Command {
	var cfg loadgen.Config
	cmd := &cobra.Command{
		Use:   "bench-load",
		Short: "Drive a running server on this machine with concurrent clients and report events/s and latency",
		Long: `bench-load posts events to a server on a loopback address (any other address is
refused) from --clients concurrent clients over keep-alive connections: NDJSON
batches of --batch events (--mode ndjson) or one event per request (--mode single).
It stops after --events events or --duration, whichever comes first, and prints
events per second and the request latency p50/p99.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg.URL, cfg.Token = a.server, a.bearer()
			res, err := loadgen.Run(a.ctx, cfg)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, res)
			return err
		},
	}
	a.serverFlags(cmd, true)
	fl := cmd.Flags()
	fl.StringVar(&cfg.Mode, "mode", loadgen.ModeNDJSON, "ndjson (batches) or single (one event per request)")
	fl.IntVar(&cfg.Clients, "clients", 8, "concurrent clients")
	fl.IntVar(&cfg.Batch, "batch", 1000, "events per NDJSON request")
	fl.Int64Var(&cfg.Events, "events", 1_000_000, "stop after this many events")
	fl.DurationVar(&cfg.Duration, "duration", 30*time.Second, "stop after this long at the latest")
	fl.IntVar(&cfg.Sessions, "sessions", 100, "spread events over this many sessions")
	fl.IntVar(&cfg.DataSize, "data-size", 100, "approximate bytes of each event's data")
	return cmd
}
