package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
)

// Per-item error codes.
const (
	codeInvalidJSON  = "invalid_json"
	codeInvalidEvent = "invalid_event"
	codeTooLarge     = "too_large"
)

// ItemError reports one refused item of an ingest request.
type ItemError struct {
	Index  int    `json:"index"`            // 0-based position among the body's items
	Line   int    `json:"line,omitempty"`   // 1-based line of an NDJSON body
	Offset *int64 `json:"offset,omitempty"` // byte offset of the item (JSON arrays) or of the syntax error (single object)
	Code   string `json:"code"`             // invalid_json, invalid_event or too_large
	Error  string `json:"error"`
}

// IngestResult is the body of every answer to POST /v1/events (see
// docs/API.md for the contract).
//
// Accepted items are durable under the Gateway's sync policy, or were
// already recorded (duplicates: their id was recorded within the Gateway's
// dedup window); IDs lists their ids in the order of the body (all of them
// unless IDsTruncated), a duplicate's being the original event's. Items
// names the duplicates. Errors names the refused items by index; every item
// not named there and before a request-level Error was accepted.
type IngestResult struct {
	Accepted     int      `json:"accepted"`
	Duplicates   int      `json:"duplicates,omitempty"` // accepted items that were duplicates
	Rejected     int      `json:"rejected,omitempty"`
	IDs          []string `json:"ids"`
	IDsTruncated bool     `json:"ids_truncated,omitempty"`
	// Items has one entry per duplicate item, in body order.
	Items          []IngestItem `json:"items,omitempty"`
	ItemsTruncated bool         `json:"items_truncated,omitempty"`
	// Duplicate is set for a body of one object that was a duplicate.
	Duplicate       bool        `json:"duplicate,omitempty"`
	Errors          []ItemError `json:"errors,omitempty"`
	ErrorsTruncated bool        `json:"errors_truncated,omitempty"`
	// Error is set when the request as a whole failed (bad JSON framing,
	// body too large, backlog full); items after the failure were not read.
	Error  string `json:"error,omitempty"`
	Offset *int64 `json:"offset,omitempty"` // byte offset of a JSON syntax error
	Line   int    `json:"line,omitempty"`   // line at which an NDJSON body failed
}

// IngestItem reports one accepted item that was a duplicate: an event with
// its id was already recorded within the dedup window, and was not recorded
// again.
type IngestItem struct {
	Index     int    `json:"index"` // 0-based position among the body's items
	ID        string `json:"id"`    // the original event's id
	Duplicate bool   `json:"duplicate"`
}

// batcher collects decoded events and records them in chunks.
type batcher struct {
	s   *Server
	ctx context.Context

	// idemKey is the request's Idempotency-Key: the id of an item that has
	// none (the key itself for a one-object body, key/index otherwise).
	idemKey string
	single  bool

	evs   []*eventgate.Event
	items []ItemError // index/line of each pending event (Code/Error unused)
	bytes int

	res       IngestResult
	tooLarge  int
	fatal     error
	fatalCode int
}

func (b *batcher) reject(e ItemError) {
	b.res.Rejected++
	if e.Code == codeTooLarge {
		b.tooLarge++
	}
	if len(b.res.Errors) < b.s.opts.MaxItemErrors {
		b.res.Errors = append(b.res.Errors, e)
	} else {
		b.res.ErrorsTruncated = true
	}
}

// add queues ev (item index i, line l) and records the chunk when full. It
// returns false after a fatal error.
func (b *batcher) add(ev *eventgate.Event, i, l int, off *int64) bool {
	if msg := oversize(ev, b.s.opts.MaxEventSize); msg != "" {
		b.reject(ItemError{Index: i, Line: l, Offset: off, Code: codeTooLarge, Error: msg})
		return true
	}
	if ev.ID == "" && b.idemKey != "" {
		if b.single {
			ev.ID = b.idemKey
		} else {
			ev.ID = b.idemKey + "/" + strconv.Itoa(i)
		}
	}
	b.evs = append(b.evs, ev)
	b.items = append(b.items, ItemError{Index: i, Line: l, Offset: off})
	b.bytes += len(ev.Data)
	if len(b.evs) >= b.s.opts.ChunkEvents || b.bytes >= b.s.opts.ChunkBytes {
		return b.flush()
	}
	return true
}

// flush records the pending events with one LogBatch call.
func (b *batcher) flush() bool {
	if len(b.evs) == 0 || b.fatal != nil {
		return b.fatal == nil
	}
	ctx := b.ctx
	if b.s.hasRoutes {
		// Only a route's backlog can make LogBatch wait for room.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(b.ctx, b.s.opts.BacklogWait)
		defer cancel()
	}
	results, err := b.s.gw.LogBatchResults(ctx, b.evs)
	var be *eventgate.BatchError
	switch {
	case err == nil:
	case errors.As(err, &be):
	default:
		b.fail(err)
		return false
	}
	for k, ev := range b.evs {
		if be != nil {
			if ierr := be.Failed[k]; ierr != nil {
				it := b.items[k]
				it.Code, it.Error = codeInvalidEvent, ierr.Error()
				if errors.Is(ierr, eventgate.ErrEventTooLarge) {
					it.Code = codeTooLarge
				}
				b.reject(it)
				continue
			}
		}
		b.res.Accepted++
		if results[k].Duplicate {
			b.res.Duplicates++
			if len(b.res.Items) < b.s.opts.MaxResponseIDs {
				b.res.Items = append(b.res.Items, IngestItem{Index: b.items[k].Index, ID: ev.ID, Duplicate: true})
			} else {
				b.res.ItemsTruncated = true
			}
			b.res.Duplicate = b.single
		}
		if len(b.res.IDs) < b.s.opts.MaxResponseIDs {
			b.res.IDs = append(b.res.IDs, ev.ID)
		} else {
			b.res.IDsTruncated = true
		}
	}
	clear(b.evs)
	b.evs, b.items, b.bytes = b.evs[:0], b.items[:0], 0
	return true
}

// fail ends the request with a request-level error.
func (b *batcher) fail(err error) {
	if b.fatal != nil {
		return
	}
	b.fatal = err
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		b.fatalCode = http.StatusRequestEntityTooLarge
		b.res.Error = fmt.Sprintf("the body exceeds the limit of %d bytes", mbe.Limit)
	case errors.Is(err, eventgate.ErrBacklogFull):
		b.fatalCode = http.StatusServiceUnavailable
		b.res.Error = "backlog full: a route is too far behind; retry later"
	case errors.Is(err, eventgate.ErrClosed):
		b.fatalCode = http.StatusServiceUnavailable
		b.res.Error = "the server is shutting down"
	case errors.Is(err, errTooSlow):
		b.fatalCode = http.StatusRequestTimeout
		b.res.Error = fmt.Sprintf("the body arrived slower than %d bytes a second; it was cut (the items before the cut were processed)", b.s.opts.MinUploadRate)
	case errors.Is(err, errBody):
		b.fatalCode = http.StatusBadRequest
		b.res.Error = err.Error()
	case errors.Is(err, eventgate.ErrStorage):
		b.fatalCode, b.res.Error = storageAnswer(err)
		b.s.opts.Logger.Error("ingest: the journal cannot write", "err", err)
	case b.ctx.Err() != nil:
		b.fatalCode = 499 // client went away; nobody reads the answer
		b.res.Error = "request canceled"
	default:
		// The cause (which may name server paths) goes to the log only.
		b.fatalCode = http.StatusInternalServerError
		b.res.Error = "recording failed; the server log has the cause"
		b.s.opts.Logger.Error("ingest: recording failed", "err", err)
	}
}

var errBody = errors.New("reading the body")

// status picks the answer's status code.
func (b *batcher) status() int {
	switch {
	case b.fatal != nil:
		return b.fatalCode
	case b.res.Rejected == 0 && b.res.Accepted == 0:
		b.res.Error = "the body holds no events"
		return http.StatusBadRequest
	case b.res.Rejected == 0:
		return http.StatusOK
	case b.res.Accepted > 0:
		return http.StatusMultiStatus
	case b.tooLarge == b.res.Rejected:
		return http.StatusRequestEntityTooLarge
	}
	return http.StatusBadRequest
}

func isNDJSON(mt string) bool {
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines",
		"application/jsonlines", "application/json-seq":
		return true
	}
	return false
}

func isJSON(mt string) bool {
	return mt == "" || mt == "application/json" || mt == "text/plain" ||
		(len(mt) > 5 && mt[len(mt)-5:] == "+json")
}

// handleIngest serves POST /v1/events.
func (s *Server) handleIngest(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if ce := r.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Encoding "+ce+" is not supported")
		return
	}
	mt := r.Header.Get("Content-Type")
	if mt != "" && mt != "application/json" && mt != "application/x-ndjson" {
		var err error
		if mt, _, err = mime.ParseMediaType(mt); err != nil {
			writeError(w, http.StatusUnsupportedMediaType, "bad Content-Type")
			return
		}
	}
	b := &batcher{s: s, ctx: r.Context(), res: IngestResult{IDs: []string{}}, idemKey: r.Header.Get("Idempotency-Key")}
	cr := &countingReader{r: s.guardUpload(w, r.Body, isNDJSON(mt))}
	var shape string
	switch {
	case isNDJSON(mt):
		shape = "ndjson"
		var body io.Reader = cr
		if s.opts.MaxStreamBody > 0 {
			body = http.MaxBytesReader(w, io.NopCloser(cr), s.opts.MaxStreamBody)
		}
		s.readNDJSON(w, b, body)
	case isJSON(mt):
		shape = s.readJSON(b, http.MaxBytesReader(w, io.NopCloser(cr), s.opts.MaxBody))
	default:
		writeError(w, http.StatusUnsupportedMediaType,
			"Content-Type must be application/json or application/x-ndjson, not "+mt+
				" (with curl: -H 'Content-Type: application/json')")
		return
	}
	code := b.status()
	if code == http.StatusServiceUnavailable || code == http.StatusInsufficientStorage {
		w.Header().Set("Retry-After", "1")
	}
	if b.fatal != nil && (code == http.StatusRequestEntityTooLarge || code == http.StatusBadRequest || code == http.StatusRequestTimeout) {
		// The rest of the body was not read; do not reuse the connection.
		w.Header().Set("Connection", "close")
	}
	s.metrics.observeIngest(shape, code, b.res.Accepted, b.res.Duplicates, b.res.Rejected, cr.n, time.Since(start))
	if code == 499 {
		return
	}
	b.write(w, code)
}

// write sends the answer. The common one (no errors) is written by hand.
func (b *batcher) write(w http.ResponseWriter, code int) {
	if len(b.res.Errors) > 0 || b.res.Error != "" || b.res.IDsTruncated || b.res.Duplicates > 0 {
		writeJSON(w, code, &b.res)
		return
	}
	buf := b.s.pools.getBuffer()
	defer b.s.pools.putBuffer(buf)
	out := append(buf.AvailableBuffer(), `{"accepted":`...)
	out = strconv.AppendInt(out, int64(b.res.Accepted), 10)
	out = append(out, `,"ids":[`...)
	for i, id := range b.res.IDs {
		if i > 0 {
			out = append(out, ',')
		}
		out = eventgate.AppendJSONString(out, id)
	}
	out = append(out, "]}\n"...)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(out)
}

// pools recycles the 64 KiB body readers and the answer buffers.
type pools struct {
	readers sync.Pool
	buffers sync.Pool
}

func (p *pools) getReader(r io.Reader) *bufio.Reader {
	br, _ := p.readers.Get().(*bufio.Reader)
	if br == nil {
		return bufio.NewReaderSize(r, 64<<10)
	}
	br.Reset(r)
	return br
}

func (p *pools) putReader(br *bufio.Reader) {
	br.Reset(nil)
	p.readers.Put(br)
}

func (p *pools) getBuffer() *bytes.Buffer {
	b, _ := p.buffers.Get().(*bytes.Buffer)
	if b == nil {
		return new(bytes.Buffer)
	}
	b.Reset()
	return b
}

func (p *pools) putBuffer(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		p.buffers.Put(b)
	}
}

// readJSON reads a single object or an array of objects. It returns the
// request's shape for the metrics.
func (s *Server) readJSON(b *batcher, body io.Reader) string {
	br := s.pools.getReader(body)
	defer s.pools.putReader(br)
	lead := int64(0)
	var first byte
	for {
		c, err := br.ReadByte()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return "empty"
			}
			b.fail(bodyError(err))
			return "json"
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			first = c
			_ = br.UnreadByte()
			break
		}
		lead++
	}
	if first != '[' {
		buf := s.pools.getBuffer()
		defer s.pools.putBuffer(buf)
		if _, err := buf.ReadFrom(br); err != nil {
			b.fail(bodyError(err))
			return "json"
		}
		ev, shape, err := DecodeObject(buf.Bytes(), false)
		if err != nil {
			b.rejectDecode(err, 0, 0, lead, true)
			return "invalid"
		}
		b.single = true
		b.add(ev, 0, 0, nil)
		b.flush()
		return string(shape)
	}
	dec := json.NewDecoder(br)
	if _, err := dec.Token(); err != nil { // '['
		b.fail(bodyError(err))
		return "array"
	}
	for i := 0; dec.More(); i++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			b.failJSON(err, lead)
			return "array"
		}
		off := lead + dec.InputOffset() - int64(len(raw))
		ev, _, err := DecodeObject(raw, false)
		if err != nil {
			b.rejectDecode(err, i, 0, off, false)
			continue
		}
		o := off
		if !b.add(ev, i, 0, &o) {
			return "array"
		}
	}
	if _, err := dec.Token(); err != nil { // ']'
		b.failJSON(err, lead)
		return "array"
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err == nil {
			b.failJSON(&trailingError{offset: dec.InputOffset()}, lead)
		} else {
			b.failJSON(err, lead)
		}
		return "array"
	}
	b.flush()
	return "array"
}

// failJSON ends a JSON array body at a syntax or read error. Events of the
// chunk not yet recorded are dropped: they are not reported as accepted.
func (b *batcher) failJSON(err error, lead int64) {
	clear(b.evs)
	b.evs, b.items, b.bytes = b.evs[:0], b.items[:0], 0
	var se *json.SyntaxError
	var te *trailingError
	switch {
	case errors.As(err, &se), errors.As(err, &te):
		off, msg := lead, "data after the array"
		if se != nil {
			off, msg = off+syntaxOffset(se), se.Error()
		} else {
			off += te.offset
		}
		b.res.Offset = &off
		b.fail(fmt.Errorf("%w: invalid JSON at byte offset %d", errBody, off))
		b.res.Error = fmt.Sprintf("invalid JSON at byte offset %d: %s", off, msg)
	case errors.Is(err, io.ErrUnexpectedEOF):
		b.fail(fmt.Errorf("%w: invalid JSON: the body ends inside the array", errBody))
	default:
		b.fail(bodyError(err))
	}
}

// rejectDecode records a DecodeObject failure for item i: at line (NDJSON),
// or at byte offset base (the element's start in a JSON array, or the body's
// leading whitespace for a single object, whose syntax error offset is also
// reported for the whole request).
func (b *batcher) rejectDecode(err error, i, line int, base int64, single bool) {
	e := ItemError{Index: i, Line: line, Code: codeInvalidEvent, Error: err.Error()}
	var de *DecodeError
	syntax := errors.As(err, &de) && de.Offset >= 0
	if syntax {
		e.Code = codeInvalidJSON
	}
	switch {
	case line > 0:
	case single && syntax:
		o := base + de.Offset
		e.Offset, b.res.Offset = &o, &o
	case !single:
		o := base
		e.Offset = &o
	}
	if single {
		b.res.Error = err.Error()
	}
	b.reject(e)
}

func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return err
	}
	return fmt.Errorf("%w: %w", errBody, err)
}

// readNDJSON reads an NDJSON body line by line, recording chunks as they
// fill, and never holds more than one line and one chunk in memory.
func (s *Server) readNDJSON(w http.ResponseWriter, b *batcher, body io.Reader) {
	rc := http.NewResponseController(w)
	extend := func() {
		now := time.Now()
		_ = rc.SetWriteDeadline(now.Add(s.opts.BodyIdleTimeout + s.opts.WriteTimeout))
	}
	extend()
	lastExtend := time.Now()
	br := s.pools.getReader(body)
	defer s.pools.putReader(br)
	limit := s.opts.MaxEventSize + 64<<10
	var buf []byte
	item := 0
	for lineNo := 1; ; lineNo++ {
		line, tooLong, err := readLine(br, buf[:0], limit, s.opts.MaxBody)
		buf = line
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, errEndlessLine) {
			if errors.Is(err, errTooSlow) {
				// The lines that did arrive are recorded. The failed read
				// canceled the request's context; the answer is still
				// written.
				b.ctx = context.WithoutCancel(b.ctx)
				b.flush()
			}
			b.res.Line = lineNo
			b.fail(bodyError(err))
			return
		}
		if t := bytes.TrimSpace(line); len(t) > 0 || tooLong {
			switch {
			case tooLong && errors.Is(err, errEndlessLine):
				// The line goes on past MaxBody: the request ends here.
				b.flush()
				b.res.Line = lineNo
				b.fail(&http.MaxBytesError{Limit: int64(limit)})
				b.res.Error = fmt.Sprintf("line %d exceeds the limit of %d bytes and does not end; the lines before it were processed", lineNo, limit)
				return
			case tooLong:
				// The line ended: refuse it alone and read on.
				b.reject(ItemError{Index: item, Line: lineNo, Code: codeTooLarge,
					Error: fmt.Sprintf("line %d exceeds the limit of %d bytes", lineNo, limit)})
			default:
				ev, _, derr := DecodeObject(t, false)
				if derr != nil {
					b.rejectDecode(derr, item, lineNo, 0, false)
				} else if !b.add(ev, item, lineNo, nil) {
					return
				}
			}
			item++
		}
		if err != nil { // io.EOF
			b.flush()
			return
		}
		if now := time.Now(); now.Sub(lastExtend) > time.Second {
			extend()
			lastExtend = now
		}
	}
}

// readLine reads one line (without its '\n') into buf. A line longer than
// limit is read on and dropped, up to skip more bytes, and reported tooLong
// (err errEndlessLine when it goes on past skip). err is io.EOF after the
// last line.
func readLine(br *bufio.Reader, buf []byte, limit int, skip int64) (line []byte, tooLong bool, err error) {
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > limit+1 {
			return buf[:0], true, skipLine(br, frag, err, skip)
		}
		buf = append(buf, frag...)
		switch {
		case err == nil:
			return bytes.TrimSuffix(buf, []byte{'\n'}), false, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		default:
			return buf, false, err
		}
	}
}

// errEndlessLine reports an NDJSON line that does not end within the bound.
var errEndlessLine = errors.New("the line does not end")

// skipLine drops the rest of a line of which frag (read with err) was the
// latest part, reading at most skip more bytes.
func skipLine(br *bufio.Reader, frag []byte, err error, skip int64) error {
	for n := int64(0); errors.Is(err, bufio.ErrBufferFull); n += int64(len(frag)) {
		if n > skip {
			return errEndlessLine
		}
		frag, err = br.ReadSlice('\n')
	}
	return err
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

type trailingError struct{ offset int64 }

func (e *trailingError) Error() string { return "data after the JSON array" }
