package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/eventgate/eventgate"
)

// rebuildProgress returns the Open option that draws a progress bar on
// stderr while the session catalog is rebuilt, when stderr is a terminal;
// elsewhere the Gateway's log line at the end is the report.
func (a *app) rebuildProgress() eventgate.Option {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return eventgate.WithCatalogRebuildProgress(nil)
	}
	return eventgate.WithCatalogRebuildProgress(newProgressBar(f, "rebuilding the session catalog", time.Now).update)
}

// progressBar draws "label [#####.....] done/total sessions, time left" on
// one terminal line, at most ten times a second, and ends the line when
// done reaches total.
type progressBar struct {
	w     io.Writer
	label string
	now   func() time.Time

	mu    sync.Mutex
	start time.Time
	drawn time.Time
}

func newProgressBar(w io.Writer, label string, now func() time.Time) *progressBar {
	return &progressBar{w: w, label: label, now: now, start: now()}
}

const progressWidth = 30

func (p *progressBar) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	t := p.now()
	last := done >= total
	if !last && t.Sub(p.drawn) < 100*time.Millisecond {
		return
	}
	p.drawn = t
	fill := progressWidth
	if total > 0 {
		fill = progressWidth * done / total
	}
	tail := ""
	switch el := t.Sub(p.start); {
	case last:
		tail = fmt.Sprintf(", took %v", el.Round(time.Millisecond))
	case done > 0:
		tail = fmt.Sprintf(", %v left", (el * time.Duration(total-done) / time.Duration(done)).Round(time.Second))
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d/%d sessions%s\x1b[K", p.label,
		strings.Repeat("#", fill), strings.Repeat(".", progressWidth-fill), done, total, tail)
	if last {
		fmt.Fprintln(p.w)
	}
}
