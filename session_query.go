package eventgate

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"strings"
	"time"

	"github.com/eventgate/eventgate/internal/catalog"
	"github.com/eventgate/eventgate/internal/sessions"
)

// MaxSessionPage is the largest SessionQuery.Limit.
const MaxSessionPage = 1000

// ErrInvalidQuery is matched by errors about a SessionQuery that cannot be
// answered: a limit out of range or a cursor that no listing produced.
var ErrInvalidQuery = errors.New("eventgate: invalid session query")

// SessionQuery selects a page of sessions, newest activity first.
type SessionQuery struct {
	Limit       int       // sessions per page, 1 to MaxSessionPage
	Cursor      string    // SessionPage.NextCursor of the previous page; "" = the first page
	ActiveSince time.Time // last activity at or after; zero = any
	ActiveUntil time.Time // last activity before; zero = any
	Prefix      string    // id starts with
	Type        string    // holds an event of this type
	WithTypes   bool      // fill SessionInfo.Types
}

// SessionPage is one page of a listing.
type SessionPage struct {
	Sessions []SessionInfo `json:"sessions"`
	// NextCursor is the cursor of the following page; "" on the last one. It is
	// opaque: a position in the listing, not an offset, so sessions that
	// become active while a client pages do not shift the pages.
	NextCursor string `json:"next_cursor,omitempty"`
	// Total is how many sessions match the query's filters.
	Total int64 `json:"total"`
}

func sessionInfo(in sessions.Info) SessionInfo {
	return SessionInfo{ID: in.ID, First: in.First, Last: in.Last, Count: in.Count, Bytes: in.Bytes, Types: in.Types}
}

func listSessions(ctx context.Context, st *sessions.Store, q SessionQuery) (SessionPage, error) {
	if q.Limit < 1 || q.Limit > MaxSessionPage {
		return SessionPage{}, fmt.Errorf("%w: limit %d: use 1 to %d", ErrInvalidQuery, q.Limit, MaxSessionPage)
	}
	cq := catalog.Query{Limit: q.Limit, Prefix: q.Prefix, Type: q.Type, WithTypes: q.WithTypes}
	if !q.ActiveSince.IsZero() {
		cq.ActiveSince = q.ActiveSince.UnixNano()
	}
	if !q.ActiveUntil.IsZero() {
		cq.ActiveUntil = q.ActiveUntil.UnixNano()
	}
	if q.Cursor != "" {
		pos, err := decodeCursor(q.Cursor)
		if err != nil {
			return SessionPage{}, err
		}
		cq.After = &pos
	}
	p, err := st.Page(ctx, cq)
	if err != nil {
		return SessionPage{}, fmt.Errorf("eventgate: list sessions: %w", err)
	}
	out := SessionPage{Sessions: make([]SessionInfo, len(p.Sessions)), Total: p.Total}
	for i, s := range p.Sessions {
		out.Sessions[i] = sessionInfo(sessions.InfoOf(s))
	}
	if p.Next != nil {
		out.NextCursor = encodeCursor(*p.Next)
	}
	return out, nil
}

// allSessions pages through every session.
func allSessions(ctx context.Context, st *sessions.Store) ([]SessionInfo, error) {
	var out []SessionInfo
	q := SessionQuery{Limit: MaxSessionPage}
	for {
		p, err := listSessions(ctx, st, q)
		if err != nil {
			return nil, err
		}
		out = append(out, p.Sessions...)
		if p.NextCursor == "" {
			return out, nil
		}
		q.Cursor = p.NextCursor
	}
}

// cursorVersion is the first byte of every cursor, so that a later format
// can tell its own cursors from these.
const cursorVersion = 1

// encodeCursor encodes pos as: version, last activity (8 bytes), id, and a
// CRC-32C of what precedes, in unpadded base64url.
func encodeCursor(pos catalog.Position) string {
	b := make([]byte, 0, 1+8+len(pos.ID)+4)
	b = append(b, cursorVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(pos.LastNs))
	b = append(b, pos.ID...)
	b = binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
	return base64.RawURLEncoding.EncodeToString(b)
}

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func decodeCursor(s string) (catalog.Position, error) {
	bad := func(why string) (catalog.Position, error) {
		return catalog.Position{}, fmt.Errorf("%w: cursor %s: pass the next_cursor of a previous page unchanged", ErrInvalidQuery, why)
	}
	if len(s) > 2*MaxSessionIDLen {
		return bad("too long")
	}
	// The decoder skips line breaks; a cursor has none.
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || strings.ContainsAny(s, "\r\n") {
		return bad("is not base64url")
	}
	if len(b) < 1+8+1+4 || b[0] != cursorVersion {
		return bad("is not one of ours")
	}
	body, sum := b[:len(b)-4], binary.BigEndian.Uint32(b[len(b)-4:])
	if crc32.Checksum(body, crcTable) != sum {
		return bad("was altered")
	}
	pos := catalog.Position{LastNs: int64(binary.BigEndian.Uint64(body[1:9])), ID: string(body[9:])}
	if ValidateSessionID(pos.ID) != nil {
		return bad("names no valid session")
	}
	return pos, nil
}

// Archive reads the sessions of a Gateway directory without opening the
// Gateway: it takes no lock and writes nothing, so it works beside the
// process that has the directory open. It lists through the session catalog
// when one is there and complete, otherwise by reading every session file.
type Archive struct {
	st  *sessions.Store
	cat *catalog.Catalog
}

// OpenArchive opens dir (DefaultDir when "") for reading. It never creates
// the directory; a directory that does not exist holds no sessions.
func OpenArchive(ctx context.Context, dir string) (*Archive, error) {
	if dir == "" {
		dir = DefaultDir()
	}
	cat, err := openCatalogReadOnly(ctx, dir)
	if err != nil {
		cat = nil
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errIncomplete) && !errors.Is(err, catalog.ErrDamaged) {
			return nil, fmt.Errorf("eventgate: open archive: %w", err)
		}
	}
	return &Archive{st: sessions.NewStore(dir, ValidateSessionID, cat), cat: cat}, nil
}

// Indexed reports whether listing is served by the session catalog (fast)
// rather than by reading every session file.
func (a *Archive) Indexed() bool { return a.st.HasCatalog() }

// ListSessions returns a page of the sessions that match q; see
// Gateway.ListSessions.
func (a *Archive) ListSessions(ctx context.Context, q SessionQuery) (SessionPage, error) {
	p, err := listSessions(ctx, a.st, q)
	if err != nil && a.cat != nil && errors.Is(err, catalog.ErrDamaged) {
		// The catalog broke under us: the files still answer.
		a.cat.MarkBroken()
		return listSessions(ctx, a.st, q)
	}
	return p, err
}

// Session summarizes session id; the error matches ErrNoSession when it has
// no events.
func (a *Archive) Session(id string) (SessionInfo, error) {
	in, ok, err := a.st.Info(id)
	if err != nil {
		return SessionInfo{}, err
	}
	if !ok {
		return SessionInfo{}, fmt.Errorf("%w: %s", ErrNoSession, quoteForError(id))
	}
	return sessionInfo(in), nil
}

// Events returns session id's events that match f, in order.
func (a *Archive) Events(ctx context.Context, id string, f EventFilter) ([]StoredEvent, error) {
	return scanEvents(ctx, a.st, id, f)
}

// ScanEvents calls fn for each of session id's events that match f, in
// order, until fn returns an error (returned as is).
func (a *Archive) ScanEvents(ctx context.Context, id string, f EventFilter, fn func(StoredEvent) error) error {
	if err := ValidateSessionID(id); err != nil {
		return err
	}
	return a.st.Scan(ctx, id, sessions.Filter(f), func(e sessions.Entry) error { return fn(storedEvent(e)) })
}

// Close releases the catalog.
func (a *Archive) Close() error {
	if a.cat == nil {
		return nil
	}
	return a.cat.Close()
}
