package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate/server"
)

func (a *app) sendCommand() *cobra.Command {
	var batch int
	var retries int
	cmd := &cobra.Command{
		Use:   "send [file…]",
		Short: "Send NDJSON events from standard input (or files) to a server",
		Long: `send posts NDJSON lines (any form the server accepts) to the server's /v1/events in
batches. A batch the server could not take at all (503: backlog full or shutting
down; connection refused) is retried with backoff. Refused lines are reported on
standard error with their file and line; the exit status is then 1. A progress
line is shown when standard error is a terminal.`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.send(args, batch, retries) },
	}
	a.serverFlags(cmd, true)
	cmd.Flags().IntVar(&batch, "batch", 1000, "events per request")
	cmd.Flags().IntVar(&retries, "retries", 5, "attempts after the first for a batch the server could not take")
	return cmd
}

type sender struct {
	a       *app
	c       *apiClient
	batch   int
	retries int

	buf      []byte
	where    []string
	sent     int
	refused  int
	start    time.Time
	tty      bool
	lastShow time.Time
}

func (a *app) send(files []string, batch, retries int) error {
	if batch < 1 {
		return &exitError{code: 2, err: errors.New("--batch must be at least 1")}
	}
	c, err := a.client()
	if err != nil {
		return err
	}
	defer c.close()
	s := &sender{a: a, c: c, batch: batch, retries: retries, start: time.Now(), tty: isTerminal(a.stderr)}
	err = eachInput(a.stdin, files, func(where string, line []byte) error {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			return nil
		}
		s.buf = append(append(s.buf, line...), '\n')
		s.where = append(s.where, where)
		if len(s.where) >= s.batch || len(s.buf) >= 4<<20 {
			return s.flush()
		}
		return nil
	})
	if err == nil {
		err = s.flush()
	}
	if s.tty {
		fmt.Fprint(a.stderr, "\r\033[K")
	}
	fmt.Fprintf(a.stderr, "sent %d events", s.sent)
	if s.refused > 0 {
		fmt.Fprintf(a.stderr, ", %d refused", s.refused)
	}
	fmt.Fprintf(a.stderr, " in %s\n", time.Since(s.start).Round(time.Millisecond))
	if err != nil {
		return err
	}
	if s.refused > 0 {
		return &exitError{code: 1}
	}
	return nil
}

func (s *sender) flush() error {
	if len(s.where) == 0 {
		return nil
	}
	wait := 200 * time.Millisecond
	for attempt := 0; ; attempt++ {
		res, code, retryAfter, err := s.post()
		var ee *exitError
		retryable := (err != nil && !errors.As(err, &ee)) || (code == http.StatusServiceUnavailable && res.Accepted == 0)
		if retryable && attempt < s.retries && s.a.ctx.Err() == nil {
			if retryAfter > wait {
				wait = retryAfter
			}
			if !sleepCtx(s.a.ctx, wait) {
				return s.a.ctx.Err()
			}
			wait = min(wait*2, 10*time.Second)
			continue
		}
		if err != nil {
			return err
		}
		s.sent += res.Accepted
		for _, ie := range res.Errors {
			s.refused++
			where := fmt.Sprintf("item %d", ie.Index)
			if ie.Index >= 0 && ie.Index < len(s.where) {
				where = s.where[ie.Index]
			}
			fmt.Fprintf(s.a.stderr, "%s: %s\n", where, ie.Error)
		}
		if res.ErrorsTruncated {
			s.refused += res.Rejected - len(res.Errors)
		}
		if code/100 != 2 && res.Error != "" {
			if code == http.StatusBadRequest && res.Rejected > 0 && res.Accepted == 0 && res.Line == 0 {
				break // every item refused; reported above
			}
			return failed("server answered %d: %s", code, res.Error)
		}
		break
	}
	s.buf, s.where = s.buf[:0], s.where[:0]
	if s.tty && time.Since(s.lastShow) > 200*time.Millisecond {
		s.lastShow = time.Now()
		rate := float64(s.sent) / time.Since(s.start).Seconds()
		fmt.Fprintf(s.a.stderr, "\r\033[Ksent %d events (%d refused), %.0f/s", s.sent, s.refused, rate)
	}
	return nil
}

// post sends the batch once.
func (s *sender) post() (server.IngestResult, int, time.Duration, error) {
	var res server.IngestResult
	req, err := http.NewRequestWithContext(s.a.ctx, "POST", s.c.base+"/v1/events", bytes.NewReader(s.buf))
	if err != nil {
		return res, 0, 0, err
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	if s.c.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.c.token)
	}
	resp, err := s.c.hc.Do(req)
	if err != nil {
		return res, 0, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return res, 0, 0, err
	}
	var ra time.Duration
	if v, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && v > 0 {
		ra = time.Duration(v) * time.Second
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		var eb server.ErrorBody
		_ = json.Unmarshal(b, &eb)
		return res, resp.StatusCode, 0, failed("server answered %d: %s", resp.StatusCode, eb.Error)
	}
	if err := json.Unmarshal(b, &res); err != nil {
		return res, resp.StatusCode, ra, failed("server answered %d: %s", resp.StatusCode, bytes.TrimSpace(b))
	}
	return res, resp.StatusCode, ra, nil
}
