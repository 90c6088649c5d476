// Package postgres is the eventgate transport for PostgreSQL: each event
// becomes one row of a table, inserted with ON CONFLICT (event_id) DO
// NOTHING so that the re-sends at-least-once delivery allows are harmless.
//
// # Usage
//
//	t, err := postgres.Open(ctx, "postgres://postgres@127.0.0.1:5432/test?table=eventgate_events&create_table=true&pool_max_conns=8&timeout=5s")
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	gw, err := eventgate.Open(dir, eventgate.WithTransport("postgres", t))
//
// or, without a URL:
//
//	t, err := postgres.New(postgres.Config{
//		URL:         "postgres://app@db.internal:5432/events?sslmode=require",
//		Table:       "audit.agent_events",
//		CreateTable: true,
//	})
//	err = t.Send(ctx, &eventgate.Event{ID: eventgate.NewID(), SessionID: "s-1", Time: time.Now(), Data: []byte(`{"type":"hello"}`)})
//
// # Table
//
// With create_table=true, Connect creates (IF NOT EXISTS):
//
//	CREATE TABLE eventgate_events (
//		event_id   text        PRIMARY KEY,  -- Event.ID; the de-duplication key
//		session_id text        NOT NULL,     -- Event.SessionID
//		type       text,                     -- Event.Type; NULL when empty
//		ts         timestamptz NOT NULL,     -- Event.Time, to the microsecond
//		data       jsonb,                    -- Event.Data (empty Data is JSON null)
//		data_text  text,                     -- Event.Data verbatim when jsonb cannot hold it; data is then NULL
//		meta       jsonb,                    -- Event.Meta, the object given (typed); NULL when empty
//		seq        bigserial   NOT NULL      -- insertion order
//	);
//	CREATE INDEX eventgate_events_session_ts_idx ON eventgate_events (session_id, ts);
//
// text rather than uuid for ids, because event ids are opaque strings (UUIDv7
// by default, but producers may bring their own); timestamptz because
// events are instants; jsonb because it is what queries want (operators,
// GIN indexes), at the price that Data comes back normalized (key order,
// whitespace and number spelling are not kept). seq is the order rows were
// inserted in, which for one session is the order of delivery; it is not
// commit order across concurrent transactions, so a reader tailing the
// table should page by (session_id, ts) or tolerate gaps. Add an index on
// seq if you page by it.
//
// # JSON null and what jsonb cannot hold
//
// Data that is JSON null, and empty Data (which eventgate records as null),
// are stored as the jsonb value null, not as SQL NULL: data IS NULL holds
// only for the fallback below, so "WHERE data IS NULL" finds exactly the
// rows whose body is in data_text.
//
// jsonb refuses two things valid JSON may contain: the escape \u0000 and
// unpaired UTF-16 surrogate escapes. Data holding them is not refused: it
// is stored verbatim in data_text, with data NULL, so
// COALESCE(data::text, data_text) always gives the body back. Events that
// PostgreSQL can never store are refused at once with KindRejected (never
// retried, dead-lettered) and a message saying why: an empty id; NUL
// characters or invalid UTF-8 in the id, session id, type or Meta; Data
// that is not valid JSON.
//
// # Batches
//
// SendBatch inserts a whole batch with one statement, an INSERT … SELECT
// over unnest of one array per column ordered WITH ORDINALITY, in one round
// trip. It was measured against a pgx.Batch of single-row INSERTs (one round
// trip, one statement per row) and against COPY into a temporary table
// followed by INSERT … SELECT … ON CONFLICT DO NOTHING (four round trips);
// unnest was the fastest at batch sizes 100 and 1000 (see
// BenchmarkBatchMethods).
//
// # Connection loss
//
// The pool replaces broken connections by itself. Because inserts are
// idempotent, a Send or SendBatch that fails on a broken connection (a
// terminated backend, a server restart) is retried at once on another
// connection, up to MaxConns more times within the deadline; if the server
// stays unreachable the call fails with KindConnection (retryable) and the
// Gateway's journal keeps the events until it is back.
//
// # Errors
//
// Server errors map by SQLSTATE class: 08 (connection), 57P01/57P02/57P03
// (shutdown) → KindConnection; 53 (insufficient resources) →
// KindThrottled; 40001/40P01 (serialization failure, deadlock) → retryable;
// 57014 (statement timeout) → KindTimeout; 22 (data exception), 23
// (constraint violation other than the absorbed event_id conflict), 42
// (syntax, undefined table when create_table is off), 28 (authorization),
// 54 (program limit) and 3D000 (unknown database) → KindRejected. Errors
// without a SQLSTATE: timeouts → KindTimeout, anything about reaching or
// keeping a connection → KindConnection. After Close, every call fails with
// an error matching eventgate.ErrClosed.
package postgres
