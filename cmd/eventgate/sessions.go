package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/server"
)

// sessionFlags are the listing filters of sessions and sessions prune.
type sessionFlags struct {
	since, until, prefix, typ string
}

func (f *sessionFlags) add(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.since, "active-since", "", "only sessions last active at or after this time: RFC 3339, or a duration ago (1h, 30d)")
	fl.StringVar(&f.until, "active-until", "", "only sessions last active before this time: RFC 3339, or a duration ago")
	fl.StringVar(&f.prefix, "prefix", "", "only sessions whose id starts with this")
	fl.StringVar(&f.typ, "type", "", "only sessions holding an event of this type")
}

func (f *sessionFlags) query(now time.Time) (eventgate.SessionQuery, error) {
	q := eventgate.SessionQuery{Prefix: f.prefix, Type: f.typ}
	var err error
	if q.ActiveSince, err = parseWhen(f.since, now); err != nil {
		return q, &exitError{code: 2, err: fmt.Errorf("--active-since: %w", err)}
	}
	if q.ActiveUntil, err = parseWhen(f.until, now); err != nil {
		return q, &exitError{code: 2, err: fmt.Errorf("--active-until: %w", err)}
	}
	return q, nil
}

func (a *app) sessionsCommand() *cobra.Command {
	var asJSON bool
	var limit int
	var f sessionFlags
	cmd := &cobra.Command{
		Use:   "sessions",
		Short: "List sessions, newest activity first: id, first and last event time, event count",
		Long: `List sessions, newest activity first, printing each page as it arrives.

Locally the list comes from the session catalog the daemon keeps beside the
session files (it works while the daemon runs); without a catalog every
session file is read, which is slow with many sessions.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 {
				return &exitError{code: 2, err: fmt.Errorf("--limit %d: use 0 (all) or more", limit)}
			}
			q, err := f.query(time.Now())
			if err != nil {
				return err
			}
			out := newSessionPrinter(a.stdout, asJSON)
			return a.eachSessionPage(q, limit, out.page)
		},
	}
	a.serverFlags(cmd, false)
	f.add(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per session")
	cmd.Flags().IntVar(&limit, "limit", 0, "at most this many sessions (0 = all)")
	cmd.AddCommand(a.pruneCommand())
	return cmd
}

// sessionPrinter prints pages of sessions as they come: a table (aligned
// within each page) or JSON lines.
type sessionPrinter struct {
	w      io.Writer
	json   bool
	header bool
}

func newSessionPrinter(w io.Writer, asJSON bool) *sessionPrinter {
	return &sessionPrinter{w: w, json: asJSON}
}

func (p *sessionPrinter) page(infos []eventgate.SessionInfo) error {
	if p.json {
		enc := json.NewEncoder(p.w)
		for _, in := range infos {
			if err := enc.Encode(in); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(p.w, 0, 4, 2, ' ', 0)
	if !p.header {
		p.header = true
		fmt.Fprintln(tw, "ID\tFIRST\tLAST\tCOUNT")
	}
	for _, in := range infos {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", in.ID, in.First.Local().Format(time.DateTime), in.Last.Local().Format(time.DateTime), in.Count)
	}
	return tw.Flush()
}

// eachSessionPage calls fn with each page of the sessions q selects, at
// most limit in all (0 = all). The first page is small, so the first rows
// show at once.
func (a *app) eachSessionPage(q eventgate.SessionQuery, limit int, fn func([]eventgate.SessionInfo) error) error {
	next := func() (eventgate.SessionPage, error) { return eventgate.SessionPage{}, nil }
	if a.server == "" {
		ar, err := a.archive()
		if err != nil {
			return err
		}
		defer ar.Close()
		if !ar.Indexed() {
			fmt.Fprintln(a.stderr, "eventgate: no session catalog in the data directory; reading every session file (the daemon builds the catalog when it opens the directory)")
		}
		next = func() (eventgate.SessionPage, error) { return ar.ListSessions(a.ctx, q) }
	} else {
		c, err := a.client()
		if err != nil {
			return err
		}
		defer c.close()
		next = func() (eventgate.SessionPage, error) {
			var page server.SessionPage
			err := c.getJSON(a.ctx, "/v1/sessions?"+sessionValues(q).Encode(), &page)
			return page, err
		}
	}
	n := 0
	for q.Limit = 100; ; q.Limit = eventgate.MaxSessionPage {
		if limit > 0 {
			q.Limit = min(q.Limit, limit-n)
		}
		page, err := next()
		if err != nil {
			return err
		}
		if err := fn(page.Sessions); err != nil {
			return err
		}
		n += len(page.Sessions)
		if page.NextCursor == "" || (limit > 0 && n >= limit) {
			return nil
		}
		q.Cursor = page.NextCursor
	}
}

func sessionValues(q eventgate.SessionQuery) url.Values {
	v := url.Values{"limit": {strconv.Itoa(q.Limit)}}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("cursor", q.Cursor)
	set("prefix", q.Prefix)
	set("type", q.Type)
	if !q.ActiveSince.IsZero() {
		v.Set("active_since", q.ActiveSince.Format(time.RFC3339Nano))
	}
	if !q.ActiveUntil.IsZero() {
		v.Set("active_until", q.ActiveUntil.Format(time.RFC3339Nano))
	}
	return v
}

// sessionIDs returns the ids of the local sessions active in ef's time range.
func (a *app) sessionIDs(dir string, ef eventgate.EventFilter) ([]string, error) {
	ar, err := eventgate.OpenArchive(a.ctx, dir)
	if err != nil {
		return nil, err
	}
	defer ar.Close()
	var ids []string
	// A session overlaps [Since, Until) when its last event is at or after
	// Since and its first is before Until.
	q := eventgate.SessionQuery{Limit: eventgate.MaxSessionPage, ActiveSince: ef.Since}
	for {
		page, err := ar.ListSessions(a.ctx, q)
		if err != nil {
			return nil, err
		}
		for _, in := range page.Sessions {
			if ef.Until.IsZero() || in.First.Before(ef.Until) {
				ids = append(ids, in.ID)
			}
		}
		if page.NextCursor == "" {
			slices.Sort(ids)
			return ids, nil
		}
		q.Cursor = page.NextCursor
	}
}

func (a *app) pruneCommand() *cobra.Command {
	var olderThan string
	var dryRun, asJSON bool
	cmd := &cobra.Command{
		Use:   "prune --older-than 30d",
		Short: "Delete whole sessions whose last event is older than a duration",
		Long: `Delete whole sessions whose last event is older than --older-than, least
recently active first. Sessions still receiving events are kept. The journal
is not touched: delivery never depends on session files.

Without --server the data directory is opened, so the daemon must not be
running (--dry-run only reads, and works beside it); with --server the daemon
prunes (admin scope).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if olderThan == "" {
				return &exitError{code: 2, err: fmt.Errorf("--older-than is required: a duration such as 30d or 12h")}
			}
			age, err := parseAge(olderThan)
			if err != nil {
				return &exitError{code: 2, err: fmt.Errorf("--older-than: %w", err)}
			}
			cutoff := time.Now().Add(-age)
			var res server.PruneResult
			switch {
			case a.server != "":
				if res, err = a.pruneRemote(cutoff, dryRun); err != nil {
					return err
				}
			case dryRun:
				err := a.eachSessionPage(eventgate.SessionQuery{ActiveUntil: cutoff}, 0, func(infos []eventgate.SessionInfo) error {
					for _, in := range infos {
						res.IDs = append(res.IDs, in.ID)
					}
					return nil
				})
				if err != nil {
					return err
				}
				res.Count, res.DryRun = len(res.IDs), true
			default:
				if res, err = a.pruneLocal(cutoff); err != nil {
					return err
				}
			}
			if asJSON {
				return json.NewEncoder(a.stdout).Encode(res)
			}
			for _, id := range res.IDs {
				fmt.Fprintln(a.stdout, id)
			}
			verb := "deleted"
			if res.DryRun {
				verb = "would delete"
			}
			fmt.Fprintf(a.stderr, "%s %d sessions last active before %s\n", verb, res.Count, cutoff.Local().Format(time.DateTime))
			return nil
		},
	}
	a.serverFlags(cmd, false)
	cmd.Flags().StringVar(&olderThan, "older-than", "", "delete sessions whose last event is older than this: 30d, 12h, 90m")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "only print the sessions that would be deleted")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as one JSON object")
	return cmd
}

// parseAge reads a positive duration, with days allowed ("30d").
func parseAge(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(days, 10, 16)
		if err == nil && n > 0 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	} else if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a positive duration such as 30d or 12h", s)
}

func (a *app) pruneLocal(cutoff time.Time) (server.PruneResult, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return server.PruneResult{}, err
	}
	cfg.Logger = a.logger(cfg)
	gw, err := a.openLocal(cfg)
	if err != nil {
		return server.PruneResult{}, err
	}
	ids, err := gw.PruneSessions(cutoff, false)
	cerr := gw.Close(a.ctx)
	if err == nil {
		err = cerr
	}
	return server.PruneResult{Count: len(ids), IDs: ids}, err
}

func (a *app) pruneRemote(cutoff time.Time, dryRun bool) (server.PruneResult, error) {
	c, err := a.client()
	if err != nil {
		return server.PruneResult{}, err
	}
	defer c.close()
	v := url.Values{"active_until": {cutoff.UTC().Format(time.RFC3339Nano)}}
	if dryRun {
		v.Set("dry_run", "1")
	}
	var res server.PruneResult
	resp, err := c.do(a.ctx, "POST", "/v1/sessions/prune?"+v.Encode(), "", nil, nil)
	if err != nil {
		return res, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return res, fmt.Errorf("reading the server's answer: %w", err)
	}
	return res, nil
}
