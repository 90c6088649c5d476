package server

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

// storageAnswer returns the status and the message of an answer to a request
// the journal could not record: 507 for a full disk, 503 for any other
// storage failure. The message names the condition, never a server path.
func storageAnswer(err error) (int, string) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return http.StatusInsufficientStorage, "the journal cannot write: no space left on the device; retry later"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return http.StatusServiceUnavailable, "the journal cannot write: " + errno.Error() + "; retry later"
	}
	return http.StatusServiceUnavailable, "the journal cannot write; retry later"
}

// pool is one of the server's two request pools (ingest; everything else):
// a cap on its requests in progress and, per token, a cap on each token's.
type pool struct {
	what     string // "ingest " or "", for messages
	slots    chan struct{}
	perToken int64
	tokens   map[*Token]*atomic.Int64
}

func newPool(what string, n, perToken int, tokens []Token) *pool {
	p := &pool{what: what, slots: make(chan struct{}, n), perToken: int64(perToken),
		tokens: make(map[*Token]*atomic.Int64, len(tokens))}
	for i := range tokens {
		p.tokens[&tokens[i]] = new(atomic.Int64)
	}
	return p
}

// pooled runs h in pool p: past the pool's cap, or past the cap of the
// request's token, it answers 503 with Retry-After.
func (s *Server) pooled(p *pool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		select {
		case p.slots <- struct{}{}:
		default:
			s.overloaded(w, "too many "+p.what+"requests in progress; retry later")
			return
		}
		defer func() { <-p.slots }()
		if !s.opts.NoAuth {
			// An unknown token is refused by require, after this.
			if tok, err := s.authenticate(r); err == nil {
				if c := p.tokens[tok]; c != nil {
					if c.Add(1) > p.perToken {
						c.Add(-1)
						s.overloaded(w, fmt.Sprintf("too many %srequests in progress for token %q; retry later", p.what, tok.Name))
						return
					}
					defer c.Add(-1)
				}
			}
		}
		h(w, r)
	}
}

func (s *Server) overloaded(w http.ResponseWriter, msg string) {
	s.metrics.overload.Inc()
	w.Header().Set("Retry-After", "1")
	writeError(w, http.StatusServiceUnavailable, msg)
}

// errTooSlow ends an ingest body that arrives slower than MinUploadRate.
var errTooSlow = errors.New("the body arrives too slowly")

// uploadGuard reads an ingest body under the connection's read deadline,
// which it moves itself: each UploadRateWindow must bring MinUploadRate bytes
// a second (else errTooSlow), a streamed body may pause at most idle between
// reads (0: no such bound), and the whole body must arrive within the
// server's ReadTimeout when idle is 0.
type uploadGuard struct {
	r      io.Reader
	rc     *http.ResponseController
	need   int64         // bytes per window; 0: no rate bound
	window time.Duration // of the rate bound
	idle   time.Duration
	end    time.Time // ReadTimeout's deadline, when idle is 0

	winEnd time.Time // the current window's end
	got    int64     // bytes read in the current window
}

func (s *Server) guardUpload(w http.ResponseWriter, body io.Reader, streamed bool) *uploadGuard {
	now := time.Now()
	g := &uploadGuard{r: body, rc: http.NewResponseController(w), window: s.opts.UploadRateWindow}
	if s.opts.MinUploadRate > 0 {
		g.need = int64(float64(s.opts.MinUploadRate) * s.opts.UploadRateWindow.Seconds())
		g.winEnd = now.Add(g.window)
	}
	if streamed {
		g.idle = s.opts.BodyIdleTimeout
	} else {
		g.end = now.Add(s.opts.ReadTimeout)
	}
	return g
}

func (g *uploadGuard) Read(p []byte) (int, error) {
	now := time.Now()
	if g.need > 0 && g.got >= g.need {
		g.got, g.winEnd = 0, now.Add(g.window) // this window kept up
	}
	var dl time.Time
	switch {
	case g.idle > 0:
		dl = now.Add(g.idle)
	default:
		dl = g.end
	}
	rate := g.need > 0 && g.winEnd.Before(dl)
	if rate {
		dl = g.winEnd
	}
	_ = g.rc.SetReadDeadline(dl)
	n, err := g.r.Read(p)
	g.got += int64(n)
	switch {
	case err == nil:
	case errors.Is(err, io.EOF):
		// The body is in: no bound is left for the connection's reads
		// while the request is handled (a deadline there would cancel the
		// request's context), until the server sets its own for the next.
		_ = g.rc.SetReadDeadline(time.Time{})
	case rate && errors.Is(err, os.ErrDeadlineExceeded):
		return n, errTooSlow
	}
	return n, err
}

// oversize returns why ev is over max bytes of data and metadata, or "".
func oversize(ev *eventgate.Event, max int) string {
	meta := len(ev.Meta)
	switch {
	case len(ev.Data)+meta <= max:
		return ""
	case meta == 0:
		return fmt.Sprintf("data is %d bytes, the limit is %d", len(ev.Data), max)
	}
	return fmt.Sprintf("data (%d bytes) and meta (%d bytes) exceed the limit of %d", len(ev.Data), meta, max)
}

// checkUTF8 refuses a member whose raw bytes are not UTF-8 (RFC 8259 requires
// it; decoding would silently turn such bytes into U+FFFD, or record them
// raw), naming the member.
func (w *wire) checkUTF8() error {
	for _, m := range [...]struct {
		name string
		raw  []byte
	}{
		{"id", w.ID}, {"session_id", w.SessionID}, {"type", w.Type}, {"time", w.Time},
		{"data", w.Data}, {"meta", w.Meta}, {"event", w.Event}, {"metadata", w.Metadata}, {"timestamp", w.Timestamp},
	} {
		if m.raw != nil && !utf8.Valid(m.raw) {
			return notUTF8(m.name)
		}
	}
	return nil
}

func notUTF8(member string) error {
	return &DecodeError{Offset: -1, Msg: fmt.Sprintf("member %q: not valid UTF-8", member)}
}
