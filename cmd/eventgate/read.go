package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/sessions"
	"github.com/eventgate/eventgate/server"
)

// The read commands use the session files directly (no lock: they work
// while the daemon runs), or a server with --server.

func (a *app) store() (*sessions.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return sessions.NewStore(cfg.DataDir(), eventgate.ValidateSessionID, nil), nil
}

// archive opens the data directory for reading, creating nothing.
func (a *app) archive() (*eventgate.Archive, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	return eventgate.OpenArchive(a.ctx, cfg.DataDir())
}

// filterFlags are the event filter flags of events, tail and replay.
type filterFlags struct {
	typ, since, until string
	afterSeq          uint64
	limit             int
	output            string
}

func (f *filterFlags) add(cmd *cobra.Command, withLimit bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "only events of this type")
	fl.StringVar(&f.since, "since", "", "only events at or after this time: RFC 3339, or a duration ago (1h)")
	fl.StringVar(&f.until, "until", "", "only events before this time: RFC 3339, or a duration ago")
	if withLimit {
		fl.Uint64Var(&f.afterSeq, "after-seq", 0, "only events with a greater seq")
		fl.IntVar(&f.limit, "limit", 0, "at most this many events (0 = all)")
	}
	fl.StringVarP(&f.output, "output", "o", "", "ndjson or table (default: table on a terminal, else ndjson)")
}

func (f *filterFlags) filter(now time.Time) (eventgate.EventFilter, error) {
	ef := eventgate.EventFilter{Type: f.typ, AfterSeq: f.afterSeq, Limit: f.limit}
	var err error
	if ef.Since, err = parseWhen(f.since, now); err != nil {
		return ef, fmt.Errorf("--since: %w", err)
	}
	if ef.Until, err = parseWhen(f.until, now); err != nil {
		return ef, fmt.Errorf("--until: %w", err)
	}
	return ef, nil
}

// parseWhen reads an RFC 3339 time or a duration before now.
func parseWhen(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	if d, err := parseAge(s); err == nil {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 time nor a duration such as 1h or 30d", s)
}

func filterQuery(f eventgate.EventFilter) url.Values {
	q := url.Values{}
	if f.Type != "" {
		q.Set("type", f.Type)
	}
	if !f.Since.IsZero() {
		q.Set("since", f.Since.Format(time.RFC3339Nano))
	}
	if !f.Until.IsZero() {
		q.Set("until", f.Until.Format(time.RFC3339Nano))
	}
	if f.AfterSeq > 0 {
		q.Set("after_seq", strconv.FormatUint(f.AfterSeq, 10))
	}
	if f.Limit > 0 {
		q.Set("limit", strconv.Itoa(f.Limit))
	}
	return q
}

// eventPrinter writes events as NDJSON or as a table.
type eventPrinter struct {
	w     io.Writer
	table *tabwriter.Writer
	buf   []byte
}

func (a *app) printer(output string) (*eventPrinter, error) {
	switch output {
	case "":
		if isTerminal(a.stdout) {
			output = "table"
		} else {
			output = "ndjson"
		}
	case "ndjson", "table":
	default:
		return nil, &exitError{code: 2, err: fmt.Errorf("--output %q is not a format: use -o ndjson (one JSON object per line) or -o table", output)}
	}
	p := &eventPrinter{w: a.stdout}
	if output == "table" {
		p.table = tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(p.table, "SEQ\tTIME\tTYPE\tID\tDATA")
	}
	return p, nil
}

func (p *eventPrinter) print(e *eventgate.StoredEvent) error {
	if p.table != nil {
		data := strings.Join(strings.Fields(string(e.Data)), " ")
		if len(data) > 80 {
			data = data[:77] + "..."
		}
		_, err := fmt.Fprintf(p.table, "%d\t%s\t%s\t%s\t%s\n", e.Seq, e.Time.Local().Format("2006-01-02 15:04:05.000"), e.Type, e.ID, data)
		return err
	}
	p.buf = append(server.AppendStoredEvent(p.buf[:0], e), '\n')
	_, err := p.w.Write(p.buf)
	return err
}

func (p *eventPrinter) flush() error {
	if p.table != nil {
		return p.table.Flush()
	}
	return nil
}

func (a *app) eventsCommand() *cobra.Command {
	var f filterFlags
	cmd := &cobra.Command{
		Use:   "events <session>",
		Short: "Print a session's events (NDJSON, or a table on a terminal)",
		Args:  sessionArg("events"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ef, err := f.filter(time.Now())
			if err != nil {
				return &exitError{code: 2, err: err}
			}
			p, err := a.printer(f.output)
			if err != nil {
				return err
			}
			err = a.eachEvent(args[0], ef, p.print)
			if ferr := p.flush(); err == nil {
				err = ferr
			}
			return err
		},
	}
	a.serverFlags(cmd, false)
	f.add(cmd, true)
	return cmd
}

// eachEvent calls fn for each event of session id matching f, in order.
// Damaged session-file lines are skipped, each told on stderr; then it
// returns an exit error (status 1) with their count.
func (a *app) eachEvent(id string, f eventgate.EventFilter, fn func(*eventgate.StoredEvent) error) error {
	if err := eventgate.ValidateSessionID(id); err != nil {
		return &exitError{code: 2, err: err}
	}
	if a.server == "" {
		st, err := a.store()
		if err != nil {
			return err
		}
		if _, ok, err := st.Info(id); err != nil {
			return err
		} else if !ok {
			return failed("no session %q (`eventgate sessions` lists them)", id)
		}
		dc := &damageCounter{stderr: a.stderr}
		err = st.Scan(dc.context(a.ctx), id, sessions.Filter(f), func(e sessions.Entry) error {
			se := storedEvent(e)
			return fn(&se)
		})
		if err != nil {
			return err
		}
		return dc.err()
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	defer c.close()
	q := filterQuery(f)
	q.Set("format", "ndjson")
	resp, err := c.do(a.ctx, "GET", "/v1/sessions/"+url.PathEscape(id)+"/events?"+q.Encode(), "", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	br := bufio.NewReaderSize(resp.Body, 1<<20)
	dc := &damageCounter{stderr: a.stderr}
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 1 && isDamageRecord(line) {
			dc.remote(line)
		} else if len(line) > 1 {
			se, derr := decodeStored(line)
			if derr != nil {
				return derr
			}
			if ferr := fn(se); ferr != nil {
				return ferr
			}
		}
		if errors.Is(err, io.EOF) {
			return dc.err()
		}
		if err != nil {
			return err
		}
	}
}

func storedEvent(e sessions.Entry) eventgate.StoredEvent {
	meta := e.Meta
	if len(meta) == 0 {
		meta = nil
	}
	return eventgate.StoredEvent{Seq: e.Seq, Event: eventgate.Event{ID: e.ID, SessionID: e.SessionID, Type: e.Type,
		Time: e.Time, Data: e.Data, Meta: meta}}
}

// decodeStored reads the API's form of a stored event ({"seq":…, event}).
func decodeStored(b []byte) (*eventgate.StoredEvent, error) {
	var s struct {
		Seq uint64 `json:"seq"`
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decoding an event from the server: %w", err)
	}
	var ev eventgate.Event
	if err := ev.UnmarshalJSON(b); err != nil {
		return nil, err
	}
	return &eventgate.StoredEvent{Seq: s.Seq, Event: ev}, nil
}

// sleepCtx waits d or until ctx ends; false when ctx ended.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// sessionArg requires exactly one argument, the session id, and says how to
// find one when it is missing.
func sessionArg(command string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		switch {
		case len(args) == 0:
			return &exitError{code: 2, err: fmt.Errorf("%s needs a session id: eventgate %s <session> "+
				"(`eventgate sessions` lists them)", command, command)}
		case len(args) > 1:
			return &exitError{code: 2, err: fmt.Errorf("%s takes one session id, got %d arguments: %q",
				command, len(args), strings.Join(args, " "))}
		}
		return nil
	}
}
