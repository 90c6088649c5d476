package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
)

func (a *app) dlqCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "List or redrive a route's dead letters",
		Long: `dlq works on the dead letters of a route: events its transport refused for good
(or that it gave up on), and ranges dropped under the drop_oldest backlog policy.
Locally it opens the data directory with the configuration's transports (-c);
with --server it asks the running daemon (admin scope).`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list <route>",
		Short: "List a route's dead letters, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dls, err := a.deadLetters(args[0])
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for _, d := range dls {
					if err := enc.Encode(d); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "SEQ\tAT\tKIND\tATTEMPTS\tERROR")
			for _, d := range dls {
				msg := d.Error
				if d.Dropped != nil {
					msg = fmt.Sprintf("dropped %d events (seq %d-%d): %s", d.Dropped.Count, d.Dropped.FromSeq, d.Dropped.ToSeq, d.Error)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\n", d.Seq, d.At.Local().Format(time.DateTime), d.Kind, d.Attempts, msg)
			}
			fmt.Fprintf(tw, "%d dead letters\n", len(dls))
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per dead letter")
	redrive := &cobra.Command{
		Use:   "redrive <route>",
		Short: "Send a route's dead letters once more; delivered ones leave the list",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			res, err := a.redrive(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "delivered %d, failed again %d, skipped %d\n", res.Delivered, res.Failed, res.Skipped)
			if res.Failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	for _, c := range []*cobra.Command{list, redrive} {
		a.serverFlags(c, false)
		cmd.AddCommand(c)
	}
	return cmd
}

// errNothingRecorded reports a data directory that eventgate never opened,
// to the commands that only read: they create nothing.
var errNothingRecorded = errors.New("nothing recorded yet")

// recorded reports whether dir holds eventgate's state (a Gateway opened it).
func recorded(dir string) (bool, error) {
	_, err := os.Stat(filepath.Join(dir, ".eventgate", "journal"))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// withRouteGateway opens the configured Gateway locally, runs fn, and
// closes it without waiting for deliveries. With readOnly, it opens nothing
// and returns errNothingRecorded (wrapped, naming the directory) when the
// data directory holds no journal, so that listing creates no directory.
func (a *app) withRouteGateway(readOnly bool, fn func(gw *eventgate.Gateway) error) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	if readOnly {
		if ok, err := recorded(cfg.DataDir()); err != nil {
			return err
		} else if !ok {
			return fmt.Errorf("%s: %w", cfg.DataDir(), errNothingRecorded)
		}
	}
	gw, err := cfg.Open(a.ctx)
	if err != nil {
		return lockedHint(err)
	}
	err = fn(gw)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // do not drain: what the routes hold stays on disk
	_ = gw.Close(ctx)
	return err
}

func (a *app) deadLetters(route string) ([]eventgate.DeadLetter, error) {
	if a.server != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		defer c.close()
		var body struct {
			DeadLetters []eventgate.DeadLetter `json:"dead_letters"`
		}
		err = c.getJSON(a.ctx, "/v1/routes/"+url.PathEscape(route)+"/dead-letters", &body)
		return body.DeadLetters, err
	}
	var out []eventgate.DeadLetter
	err := a.withRouteGateway(true, func(gw *eventgate.Gateway) error {
		var err error
		out, err = gw.DeadLetters(route)
		return err
	})
	if errors.Is(err, errNothingRecorded) {
		return nil, nil // no journal: no dead letters either
	}
	return out, err
}

func (a *app) redrive(route string) (eventgate.RedriveResult, error) {
	var res eventgate.RedriveResult
	if a.server != "" {
		c, err := a.client()
		if err != nil {
			return res, err
		}
		defer c.close()
		resp, err := c.do(a.ctx, "POST", "/v1/routes/"+url.PathEscape(route)+"/redrive", "", nil, nil)
		if err != nil {
			return res, err
		}
		defer resp.Body.Close()
		err = json.NewDecoder(resp.Body).Decode(&res)
		return res, err
	}
	err := a.withRouteGateway(false, func(gw *eventgate.Gateway) error {
		var err error
		res, err = gw.Redrive(a.ctx, route)
		return err
	})
	return res, err
}
