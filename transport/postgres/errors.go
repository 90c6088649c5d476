package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/eventgate/eventgate"
)

// classify maps an error from pgx or the server to a Kind. Server errors go
// by SQLSTATE:
//
//	08xxx connection exception, 57P01 admin shutdown, 57P02 crash shutdown,
//	57P03 cannot connect now                              → KindConnection
//	53xxx insufficient resources (too many connections,
//	disk full, out of memory)                            → KindThrottled
//	40001 serialization failure, 40P01 deadlock           → KindUnknown (retryable)
//	57014 query canceled (statement_timeout)              → KindTimeout
//	42xxx syntax error or access rule violation (e.g. an
//	undefined table when create_table is off, a role
//	without the privilege), 28xxx invalid authorization
//	(wrong password, unknown role), 3D000 unknown
//	database, 3F000 unknown schema                        → KindUnavailable (the route pauses)
//	22xxx data exception (e.g. invalid JSON for jsonb),
//	23xxx integrity constraint violation (other than the
//	event_id conflict, which the insert absorbs),
//	54xxx program limit exceeded                          → KindRejected
//	anything else                                         → KindUnknown (retryable)
//
// Errors without a SQLSTATE: timeouts → KindTimeout; failures to connect,
// broken or closed connections → KindConnection.
func classify(err error) eventgate.Kind {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return classifyCode(pgErr.Code)
	}
	if errors.Is(err, errUnstorable) {
		return eventgate.KindRejected
	}
	if pgconn.Timeout(err) || errors.Is(err, context.DeadlineExceeded) {
		return eventgate.KindTimeout
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return eventgate.KindConnection
	}
	var netErr net.Error
	if errors.As(err, &netErr) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || pgconn.SafeToRetry(err) || isConnClosed(err) {
		return eventgate.KindConnection
	}
	return eventgate.Classify(err)
}

func classifyCode(code string) eventgate.Kind {
	switch code {
	case "57P01", "57P02", "57P03":
		return eventgate.KindConnection
	case "57014":
		return eventgate.KindTimeout
	case "40001", "40P01":
		return eventgate.KindUnknown
	case "3D000", "3F000":
		return eventgate.KindUnavailable
	}
	if len(code) < 2 {
		return eventgate.KindUnknown
	}
	switch code[:2] {
	case "08":
		return eventgate.KindConnection
	case "53":
		return eventgate.KindThrottled
	case "42", "28":
		return eventgate.KindUnavailable
	case "22", "23", "54":
		return eventgate.KindRejected
	}
	return eventgate.KindUnknown
}

// isConnClosed reports a connection pgx already closed, or the pool's
// "closed pool" error (which has no exported sentinel).
func isConnClosed(err error) bool {
	if errors.Is(err, pgconn.ErrConnClosed) {
		return true
	}
	for e := err; e != nil; e = errors.Unwrap(e) {
		if e.Error() == "closed pool" {
			return true
		}
	}
	return false
}

// wrapErr returns err as a *eventgate.TransportError of transport name.
func wrapErr(name, op string, err error) error {
	if err == nil {
		return nil
	}
	var te *eventgate.TransportError
	if errors.As(err, &te) {
		return err
	}
	return eventgate.NewError(name, classify(err), fmt.Errorf("postgres: %s: %w", op, err))
}

// isUndefinedTable reports SQLSTATE 42P01.
func isUndefinedTable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "42P01"
}
