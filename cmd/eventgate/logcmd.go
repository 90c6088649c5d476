package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/server"
)

func (a *app) logCommand() *cobra.Command {
	var session string
	var verbose bool
	cmd := &cobra.Command{
		Use:   "log [file…]",
		Short: "Log NDJSON events from standard input (or files) into the local data directory",
		Long: `log records events locally, with no server: each line is an event in eventgate's
form {"id"?,"session_id"?,"type"?,"time"?,"data","meta"?}, the original HTTPTransport
payload {"event":{…},"metadata":{…},"timestamp":…}, or any other JSON object, taken
whole as the event's data (its session from "user_session_id" or "session_id").

Events are recorded in chunks of 1,000 with one fsync each (under sync: always).
It prints how many were logged; --verbose prints each id. Lines that cannot be
logged are reported on standard error and make the exit status 1.`,
		RunE: func(cmd *cobra.Command, args []string) error { return a.logEvents(args, session, verbose) },
	}
	cmd.Flags().StringVar(&session, "session", "", "session of events that name none (default \"unknown\")")
	cmd.Flags().BoolVarP(&verbose, "verbose", "v", false, "print the id of every logged event")
	return cmd
}

func (a *app) logEvents(files []string, session string, verbose bool) error {
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var extra []eventgate.Option
	if session != "" {
		if err := eventgate.ValidateSessionID(session); err != nil {
			return &exitError{code: 2, err: fmt.Errorf("--session: %w", err)}
		}
		extra = append(extra, eventgate.WithFallbackSession(session))
	}
	gw, err := a.openLocal(cfg, append(extra, a.rebuildProgress())...)
	if err != nil {
		return err
	}
	l := &localLogger{a: a, gw: gw, verbose: verbose}
	err = eachInput(a.stdin, files, l.line)
	if ferr := l.flush(); err == nil {
		err = ferr
	}
	if cerr := gw.Close(context.Background()); err == nil {
		err = cerr
	}
	fmt.Fprintf(a.stdout, "logged %d events", l.logged)
	if l.refused > 0 {
		fmt.Fprintf(a.stdout, ", %d refused", l.refused)
	}
	fmt.Fprintln(a.stdout)
	if err != nil {
		return err
	}
	if l.refused > 0 {
		return &exitError{code: 1}
	}
	return nil
}

// localLogger logs decoded lines in chunks.
type localLogger struct {
	a       *app
	gw      *eventgate.Gateway
	verbose bool
	evs     []*eventgate.Event
	where   []string
	logged  int
	refused int
}

func (l *localLogger) line(where string, b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil
	}
	ev, _, err := server.DecodeObject(b, true)
	if err != nil {
		l.refused++
		fmt.Fprintf(l.a.stderr, "%s: %v\n", where, err)
		return nil
	}
	l.evs = append(l.evs, ev)
	l.where = append(l.where, where)
	if len(l.evs) >= 1000 {
		return l.flush()
	}
	return nil
}

func (l *localLogger) flush() error {
	if len(l.evs) == 0 {
		return nil
	}
	err := l.gw.LogBatch(l.a.ctx, l.evs)
	var be *eventgate.BatchError
	if err != nil && !errors.As(err, &be) {
		return err
	}
	for i, ev := range l.evs {
		if be != nil && be.Failed[i] != nil {
			l.refused++
			fmt.Fprintf(l.a.stderr, "%s: %v\n", l.where[i], be.Failed[i])
			continue
		}
		l.logged++
		if l.verbose {
			fmt.Fprintln(l.a.stdout, ev.ID)
		}
	}
	l.evs, l.where = l.evs[:0], l.where[:0]
	return nil
}

// eachInput calls fn for every line of the named files, or of stdin when
// there are none ("-" also names stdin), with "file:line" for messages.
func eachInput(stdin io.Reader, files []string, fn func(where string, line []byte) error) error {
	if len(files) == 0 {
		files = []string{"-"}
	}
	for _, name := range files {
		var r io.Reader = stdin
		label := "stdin"
		if name != "-" {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			defer f.Close()
			r, label = f, name
		}
		br := bufio.NewReaderSize(r, 1<<20)
		for n := 1; ; n++ {
			line, err := br.ReadBytes('\n')
			if len(line) > 0 {
				if ferr := fn(fmt.Sprintf("%s:%d", label, n), line); ferr != nil {
					return ferr
				}
			}
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("%s: %w", label, err)
			}
		}
	}
	return nil
}
