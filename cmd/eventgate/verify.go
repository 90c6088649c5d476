package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/journal"
	"github.com/eventgate/eventgate/server"
)

// verifyMaxRecord bounds a journal record for verify: the largest event the
// configuration accepts, and the record's envelope.
const verifyMaxRecord = 64<<20 + 64<<10

func (a *app) verifyCommand() *cobra.Command {
	var repair bool
	cmd := &cobra.Command{
		Use:   "verify [--repair]",
		Short: "Check the data directory (journal, cursors, session files, catalog) and repair it",
		Long: `verify checks the data directory while no daemon has it open: every record of
every journal segment, the seqs between segments, every reader's saved cursor,
every line of every session file, and the session catalog. It prints what is
damaged and what repairing does about it; --repair does it:

  journal damage       the damaged bytes are copied to a quarantine file beside
                       the segment and added to the damage register (readers
                       skip them; see eventgate damage); a torn last write is cut
  cursors              an unreadable cursor, or one not at a record boundary, is
                       moved back to a record boundary (its reader reads some
                       records again and loses none)
  session catalog      a damaged catalog is removed; the next start rebuilds it
  session files        damaged lines are reported only: readers skip them

The exit status is 0 when nothing is damaged (or everything found was
repaired), 1 when damage was found and not repaired, 2 on usage errors.
On a terminal, progress is shown on standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			return a.verify(a.ctx, cfg.DataDir(), repair)
		},
	}
	cmd.Flags().BoolVar(&repair, "repair", false, "do what the report says repairing does")
	return cmd
}

// progress writes a one-line progress report to a terminal, and nothing
// elsewhere.
type progress struct {
	w    io.Writer
	on   bool
	last time.Time
}

func (p *progress) show(force bool, format string, args ...any) {
	if !p.on || (!force && time.Since(p.last) < 100*time.Millisecond) {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\r\033[K"+format, args...)
}

func (p *progress) done() {
	if p.on {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func (a *app) verify(ctx context.Context, dir string, repair bool) error {
	if _, err := os.Stat(dir); err != nil {
		return &exitError{code: 2, err: fmt.Errorf("verify: %w", err)}
	}
	pr := &progress{w: a.stderr, on: isTerminal(a.stderr)}
	out := a.stdout
	problems := 0

	// The journal (this also holds its lock until the end of the check).
	jdir := filepath.Join(dir, ".eventgate", "journal")
	var rep journal.VerifyReport
	if _, err := os.Stat(jdir); err == nil {
		rep, err = journal.Verify(ctx, jdir, journal.VerifyOptions{MaxRecordSize: verifyMaxRecord, Repair: repair,
			Progress: func(done, total int64) {
				pr.show(done == total, "verify: journal %d of %d MiB", done>>20, total>>20)
			}})
		pr.done()
		if err != nil {
			return lockedHint(err)
		}
	}
	var records uint64
	for _, s := range rep.Segments {
		records += s.Records
	}
	fmt.Fprintf(out, "journal: %d segment(s), %d record(s)\n", len(rep.Segments), records)
	for _, s := range rep.Segments {
		for _, d := range s.Damaged {
			fmt.Fprintf(out, "  damaged: segment %d offset %d, %d bytes, records %s lost: %s\n",
				d.Segment, d.Offset, d.Length, lostRange(d.FromSeq, d.ToSeq), d.Reason)
		}
		for _, d := range s.Known {
			fmt.Fprintf(out, "  known damage (in the damage register, quarantined as %s): segment %d offset %d, %d bytes, records %s lost\n",
				cmpOr(d.Quarantine, "-"), d.Segment, d.Offset, d.Length, lostRange(d.FromSeq, d.ToSeq))
		}
		if t := s.Tail; t != nil {
			fmt.Fprintf(out, "  torn tail: segment %d offset %d, %d bytes: %s\n", t.Segment, t.Offset, t.Length, t.Reason)
		}
	}
	for _, c := range rep.Cursors {
		if c.Problem != "" {
			fmt.Fprintf(out, "  cursor %s: %s\n", c.Reader, c.Problem)
		}
	}
	problems += rep.Problems()

	// The session files.
	sf, err := checkSessionFiles(ctx, dir, pr)
	pr.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "session files: %d session(s), %d file(s), %d line(s)\n", sf.sessions, sf.files, sf.lines)
	for _, f := range sf.damaged {
		fmt.Fprintf(out, "  %s\n", f)
	}
	problems += len(sf.damaged)

	// The session catalog.
	var actions []string
	actions = append(actions, rep.Actions...)
	cpath := eventgate.CatalogPath(dir)
	if _, err := os.Stat(cpath); err == nil {
		cerr := checkCatalog(ctx, cpath)
		if cerr == nil {
			fmt.Fprintln(out, "session catalog: ok")
		} else {
			problems++
			fmt.Fprintf(out, "session catalog: damaged: %v\n", cerr)
			actions = append(actions, "remove the session catalog; the next start rebuilds it from the session files")
			if repair {
				if err := catalog.Remove(cpath); err != nil {
					return err
				}
			}
		}
	} else {
		fmt.Fprintln(out, "session catalog: none (built at the next start)")
	}
	if len(sf.damaged) > 0 {
		actions = append(actions, "session files: nothing (readers skip damaged lines and report them)")
	}

	if problems == 0 {
		fmt.Fprintln(out, "no damage found")
		return nil
	}
	verb := "repairing would"
	if repair {
		verb = "repaired"
	}
	fmt.Fprintf(out, "%d problem(s); %s:\n", problems, verb)
	for _, act := range actions {
		fmt.Fprintf(out, "  - %s\n", act)
	}
	if !repair {
		return &exitError{code: 1, err: fmt.Errorf("verify: %d problem(s) found; run eventgate verify --repair", problems)}
	}
	return nil
}

func lostRange(from, to uint64) string {
	switch {
	case to < from:
		return "none"
	case to == from:
		return fmt.Sprint(from)
	default:
		return fmt.Sprintf("%d-%d (%d)", from, to, to-from+1)
	}
}

func checkCatalog(ctx context.Context, path string) error {
	c, err := catalog.Open(ctx, path, catalog.Options{ReadOnly: true})
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Check(ctx)
}

type sessionCheck struct {
	sessions, files, lines int
	damaged                []string
}

// checkSessionFiles reads every line of every session file: each must be a
// JSON object whose seq is above the one before it in the session.
func checkSessionFiles(ctx context.Context, dir string, pr *progress) (sessionCheck, error) {
	var sc sessionCheck
	ents, err := os.ReadDir(dir)
	if err != nil {
		return sc, fmt.Errorf("verify: %w", err)
	}
	for i, e := range ents {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") || eventgate.ValidateSessionID(e.Name()) != nil {
			continue
		}
		if err := ctx.Err(); err != nil {
			return sc, err
		}
		sc.sessions++
		pr.show(i == len(ents)-1, "verify: session files %d of %d", i+1, len(ents))
		files, err := filepath.Glob(filepath.Join(dir, e.Name(), "*.jsonl"))
		if err != nil {
			return sc, err
		}
		slices.Sort(files) // named by their first seq, 20 digits
		var last uint64
		for _, f := range files {
			sc.files++
			n, bad, err := checkSessionFile(f, &last)
			if err != nil {
				return sc, err
			}
			sc.lines += n
			rel, _ := filepath.Rel(dir, f)
			sc.damaged = append(sc.damaged, prefixAll(rel, bad)...)
		}
	}
	return sc, nil
}

func prefixAll(p string, ss []string) []string {
	for i, s := range ss {
		ss[i] = p + ": " + s
	}
	return ss
}

func checkSessionFile(path string, last *uint64) (lines int, bad []string, err error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil, nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 64<<10)
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if len(line) > 0 {
			lines++
			var l struct {
				Seq *uint64 `json:"seq"`
			}
			switch {
			case rerr == io.EOF:
				bad = append(bad, fmt.Sprintf("line %d: torn last line (%d bytes without a newline; the next write cuts it)", n, len(line)))
			case json.Unmarshal(bytes.TrimSpace(line), &l) != nil || l.Seq == nil:
				bad = append(bad, fmt.Sprintf("line %d: not a session-file line (%d bytes)", n, len(line)))
			case *l.Seq <= *last:
				bad = append(bad, fmt.Sprintf("line %d: seq %d after seq %d", n, *l.Seq, *last))
			default:
				*last = *l.Seq
			}
		}
		if rerr == io.EOF {
			return lines, bad, nil
		}
		if rerr != nil {
			return lines, bad, fmt.Errorf("verify: read %s: %w", filepath.Base(path), rerr)
		}
	}
}

func (a *app) damageCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "damage",
		Short: "List or acknowledge journal damage (records lost)",
		Long: `damage lists the damaged or missing journal ranges found so far (by recovery,
by a reader, or by eventgate verify --repair): where they are, which records they
lost and the quarantine file that keeps their bytes. Each route also has a dead
letter of kind "damaged" for the records it never delivered. /readyz answers 503
while any is not acknowledged; "damage ack" acknowledges them all.
Locally it reads the data directory (ack needs the daemon stopped); with --server
it asks the running daemon (admin scope).`,
	}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List journal damage, oldest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ds, err := a.damageList()
			if err != nil {
				return err
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				for _, d := range ds {
					if err := enc.Encode(d); err != nil {
						return err
					}
				}
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "AT\tFOUND BY\tSEGMENT\tOFFSET\tBYTES\tLOST\tACK\tREASON")
			for _, d := range ds {
				ack := "no"
				if d.Acknowledged {
					ack = "yes"
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n", d.At.Local().Format(time.DateTime), d.FoundBy,
					d.Segment, d.Offset, d.Bytes, lostRange(d.FromSeq, d.ToSeq), ack, d.Reason)
			}
			fmt.Fprintf(tw, "%d damage report(s)\n", len(ds))
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per report")
	a.serverFlags(list, false)
	ack := &cobra.Command{
		Use:   "ack",
		Short: "Acknowledge every journal damage report",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := a.damageAck()
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d damage report(s) acknowledged\n", n)
			return nil
		},
	}
	a.serverFlags(ack, false)
	cmd.AddCommand(list, ack)
	return cmd
}

func (a *app) damageList() ([]eventgate.JournalDamage, error) {
	if a.server != "" {
		c, err := a.client()
		if err != nil {
			return nil, err
		}
		defer c.close()
		var res server.DamageList
		if err := c.getJSON(a.ctx, "/v1/damage", &res); err != nil {
			return nil, err
		}
		return res.Damage, nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, err
	}
	reps, err := journal.ReadDamage(filepath.Join(cfg.DataDir(), ".eventgate", "journal"))
	if err != nil {
		return nil, err
	}
	out := make([]eventgate.JournalDamage, 0, len(reps))
	for _, r := range reps {
		out = append(out, eventgate.JournalDamage{Segment: r.Segment, Offset: r.Offset, Bytes: r.Length,
			FromSeq: r.FromSeq, ToSeq: r.ToSeq, Lost: r.Lost(), Reason: r.Reason, Quarantine: r.Quarantine,
			FoundBy: r.FoundBy, At: r.At, Acknowledged: r.Acknowledged})
	}
	return out, nil
}

func (a *app) damageAck() (int, error) {
	if a.server != "" {
		c, err := a.client()
		if err != nil {
			return 0, err
		}
		defer c.close()
		resp, err := c.do(a.ctx, "POST", "/v1/damage/ack", "", nil, nil)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		var res server.DamageAck
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			return 0, fmt.Errorf("damage ack: %w", err)
		}
		return res.Acknowledged, nil
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return 0, err
	}
	n, err := journal.AckDamageIn(filepath.Join(cfg.DataDir(), ".eventgate", "journal"))
	return n, lockedHint(err)
}
