package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/sessions"
)

func (a *app) tailCommand() *cobra.Command {
	var follow bool
	var n int
	var output string
	cmd := &cobra.Command{
		Use:   "tail [-f] <session>",
		Short: "Print a session's last events; with -f, follow it live",
		Long: `tail prints the last -n events of a session. With -f it then follows the session,
printing events as they are recorded, until interrupted: from the local session
files (polled), or with --server from the server's Server-Sent Events stream
(resuming after a dropped connection where it left off).`,
		Args: sessionArg("tail"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.tail(args[0], n, follow, output)
		},
	}
	a.serverFlags(cmd, false)
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "follow the session live")
	cmd.Flags().IntVarP(&n, "lines", "n", 10, "how many of the last events to print first")
	cmd.Flags().StringVarP(&output, "output", "o", "", "ndjson or table (default: table on a terminal, else ndjson)")
	return cmd
}

func (a *app) tail(id string, n int, follow bool, output string) error {
	if err := eventgate.ValidateSessionID(id); err != nil {
		return &exitError{code: 2, err: err}
	}
	p, err := a.printer(output)
	if err != nil {
		return err
	}
	p.table = nil // tail writes line by line
	if output == "table" || (output == "" && isTerminal(a.stdout)) {
		p.w = &lineTable{w: a.stdout}
	}
	// The last n events.
	var ring []eventgate.StoredEvent
	var last uint64
	err = a.eachEvent(id, eventgate.EventFilter{}, func(e *eventgate.StoredEvent) error {
		last = e.Seq
		if n > 0 {
			ring = append(ring, *e)
			if len(ring) > n {
				ring = ring[1:]
			}
		}
		return nil
	})
	var ee *exitError
	var he *httpError
	var de *damageError
	damaged := errors.As(err, &de) // told on stderr; the events are printed
	notYet := !damaged && (errors.As(err, &ee) || (errors.As(err, &he) && he.status == http.StatusNotFound))
	if err != nil && !damaged && !(follow && notYet) { // following a session not yet there is fine
		return err
	}
	if err != nil {
		fmt.Fprintf(a.stderr, "eventgate: no session %q yet; waiting for its first event "+
			"(Ctrl-C stops; `eventgate sessions` lists the existing ones)\n", id)
	}
	for i := range ring {
		if err := p.print(&ring[i]); err != nil {
			return err
		}
	}
	if !follow {
		if damaged {
			return err
		}
		return nil
	}
	if a.server != "" {
		return a.followRemote(id, last, p)
	}
	st, err := a.store()
	if err != nil {
		return err
	}
	// One follower for the whole run: each damaged line is told once.
	fw, err := st.Follower(id, last)
	if err != nil {
		return err
	}
	dc := &damageCounter{stderr: a.stderr}
	ctx := dc.context(a.ctx)
	for sleepCtx(a.ctx, 250*time.Millisecond) {
		err := fw.Read(ctx, func(e sessions.Entry) error {
			se := storedEvent(e)
			return p.print(&se)
		})
		if err != nil && a.ctx.Err() == nil {
			return err
		}
	}
	return nil
}

// followRemote prints the server's SSE stream of session id after seq
// last, reconnecting with Last-Event-ID after a dropped connection, until
// the command is interrupted.
func (a *app) followRemote(id string, last uint64, p *eventPrinter) error {
	c, err := a.client()
	if err != nil {
		return err
	}
	defer c.close()
	backoff := 250 * time.Millisecond
	dc := &damageCounter{stderr: a.stderr}
	for a.ctx.Err() == nil {
		hdr := http.Header{"Accept": {"text/event-stream"}, "Last-Event-Id": {strconv.FormatUint(last, 10)}}
		resp, err := c.do(a.ctx, "GET", "/v1/sessions/"+url.PathEscape(id)+"/stream", "", nil, hdr)
		var he *httpError
		if errors.As(err, &he) && he.status/100 == 4 {
			return err
		}
		if err == nil {
			backoff = 250 * time.Millisecond
			err = readStream(a.ctx, resp, func(event string, data []byte) error {
				if event == "error" {
					dc.remote(data) // damaged lines the server skipped; the stream goes on
					return nil
				}
				se, err := decodeStored(data)
				if err != nil {
					return err
				}
				last = se.Seq
				return p.print(se)
			})
			resp.Body.Close()
		}
		if a.ctx.Err() != nil {
			break
		}
		fmt.Fprintf(a.stderr, "eventgate: stream: %v; reconnecting\n", err)
		if !sleepCtx(a.ctx, backoff) {
			break
		}
		backoff = min(backoff*2, 5*time.Second)
	}
	return nil
}

// readStream calls fn with the event name ("" when none) and the data of
// each Server-Sent Event of resp.
func readStream(ctx context.Context, resp *http.Response, fn func(event string, data []byte) error) error {
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var data []byte
	var event string
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("the stream ended: %w", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if data != nil {
				if err := fn(event, data); err != nil {
					return err
				}
			}
			data, event = nil, ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimPrefix(strings.TrimPrefix(line, "event:"), " ")
		case strings.HasPrefix(line, "data:"):
			v := strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
			if data != nil {
				data = append(data, '\n')
			}
			data = append(data, v...)
		}
	}
}

// lineTable turns the NDJSON printer's lines into one readable line each.
type lineTable struct {
	w interface{ Write([]byte) (int, error) }
}

func (l *lineTable) Write(b []byte) (int, error) {
	se, err := decodeStored(b)
	if err != nil {
		return 0, err
	}
	data := strings.Join(strings.Fields(string(se.Data)), " ")
	if len(data) > 100 {
		data = data[:97] + "..."
	}
	_, err = fmt.Fprintf(l.w, "%6d  %s  %-16s %s\n", se.Seq, se.Time.Local().Format("15:04:05.000"), se.Type, data)
	return len(b), err
}
