package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// maxIdentLen is PostgreSQL's identifier length limit (NAMEDATALEN-1).
const maxIdentLen = 63

// parseTable validates name ("table" or "schema.table") and returns it as a
// pgx.Identifier.
func parseTable(name string) (pgx.Identifier, error) {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return nil, fmt.Errorf("table %q: want name or schema.name", name)
	}
	for _, p := range parts {
		if !validIdent(p) {
			return nil, fmt.Errorf("table %q: %q is not a plain identifier ([A-Za-z_][A-Za-z0-9_$]*, at most %d bytes)", name, p, maxIdentLen)
		}
	}
	return pgx.Identifier(parts), nil
}

func validIdent(s string) bool {
	if s == "" || len(s) > maxIdentLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case i > 0 && (c >= '0' && c <= '9' || c == '$'):
		default:
			return false
		}
	}
	return true
}

// columns are the columns the transport writes, in insert order.
var columns = []string{"event_id", "session_id", "type", "ts", "data", "data_text", "meta"}

// sqlTexts holds the statements for one table.
type sqlTexts struct {
	table       string // sanitized, possibly schema-qualified
	create      []string
	insert      string
	insertBatch string
}

func newSQL(ident pgx.Identifier) sqlTexts {
	tbl := ident.Sanitize()
	last := ident[len(ident)-1]
	idx := indexName(last, "_session_ts_idx")
	cols := strings.Join(columns, ", ")
	return sqlTexts{
		table: tbl,
		create: []string{
			`CREATE TABLE IF NOT EXISTS ` + tbl + ` (
	event_id   text        PRIMARY KEY,
	session_id text        NOT NULL,
	type       text,
	ts         timestamptz NOT NULL,
	data       jsonb,
	data_text  text,
	meta       jsonb,
	seq        bigserial   NOT NULL
)`,
			`CREATE INDEX IF NOT EXISTS ` + pgx.Identifier{idx}.Sanitize() + ` ON ` + tbl + ` (session_id, ts)`,
		},
		insert: `INSERT INTO ` + tbl + ` (` + cols + `) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (event_id) DO NOTHING`,
		insertBatch: `INSERT INTO ` + tbl + ` (` + cols + `)
SELECT e, s, t, ts, d::jsonb, dt, m::jsonb
FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])
	WITH ORDINALITY AS u(e, s, t, ts, d, dt, m, ord)
ORDER BY ord
ON CONFLICT (event_id) DO NOTHING`,
	}
}

// indexName derives an index name from the table's; a name that would pass
// the identifier limit is shortened and made unique with a hash, so that
// two long table names never share (and silently skip) an index.
func indexName(table, suffix string) string {
	name := table + suffix
	if len(name) <= maxIdentLen {
		return name
	}
	sum := sha256.Sum256([]byte(table))
	h := "_" + hex.EncodeToString(sum[:4])
	return table[:maxIdentLen-len(suffix)-len(h)] + h + suffix
}
