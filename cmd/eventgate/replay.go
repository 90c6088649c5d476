package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/config"
	"github.com/eventgate/eventgate/internal/sessions"
)

func (a *app) replayCommand() *cobra.Command {
	var f filterFlags
	var to string
	var ids []string
	var batch int
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "replay --to <url|route> [--session id…] [--since t] [--until t]",
		Short: "Re-send events from the local session files to a transport",
		Long: `replay reads events from the local session files — the sessions named by
--session, or every session, limited by --since, --until and --type — and sends
them, in per-session order, to the transport --to names: a transport URL
(redis://…, kafka://…, https://…, file:///…) or the name of a transport in the
configuration file (with its wrappers). Events keep their ids, so sinks that
de-duplicate by id ignore what they already have. Progress is shown on a terminal.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.replay(to, ids, &f, batch, timeout)
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "transport URL, or the name of a configured transport (required)")
	cmd.Flags().StringSliceVar(&ids, "session", nil, "session to replay (repeatable; default: all)")
	cmd.Flags().IntVar(&batch, "batch", 500, "events per SendBatch call")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "bound on connecting and on each send")
	f.add(cmd, false)
	return cmd
}

func (a *app) replay(to string, ids []string, f *filterFlags, batch int, timeout time.Duration) error {
	if to == "" {
		return &exitError{code: 2, err: errors.New("replay needs --to: a transport URL (--to redis://127.0.0.1:6379/0, " +
			"--to file:///tmp/replayed.jsonl) or the name of a transport in the -c configuration")}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	ef, err := f.filter(time.Now())
	if err != nil {
		return &exitError{code: 2, err: err}
	}
	st := sessions.NewStore(cfg.DataDir(), eventgate.ValidateSessionID, nil)
	for _, id := range ids {
		if err := eventgate.ValidateSessionID(id); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--session: %w", err)}
		}
		if _, ok, err := st.Info(id); err != nil {
			return err
		} else if !ok {
			return failed("no session %q in %s: nothing replayed (`eventgate sessions` lists the sessions there)", id, cfg.DataDir())
		}
	}
	t, ok, err := cfg.BuildTransport(to)
	if !ok && err == nil {
		t, err = config.DefaultRegistry().New("replay", to, cfg.Logger)
	}
	if err != nil {
		return &exitError{code: 2, err: fmt.Errorf("--to: %w", err)}
	}
	defer t.Close()
	if c, ok := t.(eventgate.Connector); ok {
		cctx, cancel := context.WithTimeout(a.ctx, timeout)
		err := c.Connect(cctx)
		cancel()
		if err != nil {
			return failed("cannot connect to %s (is it running and reachable?): %w", config.Redact(to), err)
		}
	}
	if len(ids) == 0 {
		if ids, err = a.sessionIDs(cfg.DataDir(), ef); err != nil {
			return err
		}
	}
	r := &replayer{a: a, t: t, batch: max(batch, 1), timeout: timeout, start: time.Now(), tty: isTerminal(a.stderr)}
	for _, id := range ids {
		err := st.Scan(a.ctx, id, sessions.Filter(ef), func(e sessions.Entry) error {
			se := storedEvent(e)
			r.evs = append(r.evs, &se.Event)
			if len(r.evs) >= r.batch {
				return r.flush()
			}
			return nil
		})
		if err == nil {
			err = r.flush() // never mix sessions in one batch
		}
		if err != nil {
			r.done()
			return failed("replaying session %s: %w", id, err)
		}
		r.sessions++
	}
	r.done()
	return nil
}

type replayer struct {
	a        *app
	t        eventgate.Transport
	batch    int
	timeout  time.Duration
	evs      []*eventgate.Event
	sent     int
	sessions int
	start    time.Time
	tty      bool
	lastShow time.Time
}

func (r *replayer) flush() error {
	if len(r.evs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.a.ctx, r.timeout)
	defer cancel()
	var err error
	if bs, ok := r.t.(eventgate.BatchSender); ok && len(r.evs) > 1 {
		err = bs.SendBatch(ctx, r.evs)
	} else {
		for _, ev := range r.evs {
			if err = r.t.Send(ctx, ev); err != nil {
				break
			}
		}
	}
	var be *eventgate.BatchError
	if errors.As(err, &be) {
		return fmt.Errorf("%d of %d events of a batch failed: %w", len(be.Failed), len(r.evs), err)
	}
	if err != nil {
		return err
	}
	r.sent += len(r.evs)
	r.evs = r.evs[:0]
	if r.tty && time.Since(r.lastShow) > 200*time.Millisecond {
		r.lastShow = time.Now()
		fmt.Fprintf(r.a.stderr, "\r\033[Kreplayed %d events (%d sessions), %.0f/s", r.sent, r.sessions,
			float64(r.sent)/time.Since(r.start).Seconds())
	}
	return nil
}

func (r *replayer) done() {
	if r.tty {
		fmt.Fprint(r.a.stderr, "\r\033[K")
	}
	fmt.Fprintf(r.a.stderr, "replayed %d events of %d sessions in %s\n", r.sent, r.sessions, time.Since(r.start).Round(time.Millisecond))
}
