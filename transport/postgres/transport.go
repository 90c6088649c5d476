package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport inserts events into a PostgreSQL table. It is safe for
// concurrent use; create it with New or Open.
type Transport struct {
	cfg Config
	sql sqlTexts

	// gate is held shared by every Send, SendBatch and Connect and
	// exclusively by Close, so Close waits for calls in flight.
	gate   sync.RWMutex
	closed bool // guarded by gate

	mu         sync.Mutex // guards pool and tableReady
	pool       *pgxpool.Pool
	tableReady bool
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not connect: Connect,
// or the first Send, does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, eventgate.NewError(cfg.withDefaults().Name, eventgate.KindRejected, err)
	}
	cfg = cfg.withDefaults()
	ident, err := parseTable(cfg.Table)
	if err != nil {
		return nil, eventgate.NewError(cfg.Name, eventgate.KindRejected, err)
	}
	if _, err := pgxpool.ParseConfig(cfg.URL); err != nil {
		return nil, eventgate.NewError(cfg.Name, eventgate.KindRejected, fmt.Errorf("postgres: connection string: %w", err))
	}
	return &Transport{cfg: cfg, sql: newSQL(ident)}, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
// On a connect failure the Transport is closed and the error returned.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "postgres").
func (t *Transport) Name() string { return t.cfg.Name }

// Config returns the transport's configuration with defaults applied.
func (t *Transport) Config() Config { return t.cfg }

// Table returns the table's name as it appears in SQL (quoted).
func (t *Transport) Table() string { return t.sql.table }

// Connect opens the pool, checks that the server answers, and creates the
// table (CreateTable) or checks that it exists. It is idempotent; after a
// failure the next call, or the next Send, tries again.
func (t *Transport) Connect(ctx context.Context) error {
	t.gate.RLock()
	defer t.gate.RUnlock()
	if t.closed {
		return t.closedErr()
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	_, err := t.ready(ctx)
	return err
}

// ready returns the pool once the table is known to exist.
func (t *Transport) ready(ctx context.Context) (*pgxpool.Pool, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pool == nil {
		pc, err := pgxpool.ParseConfig(t.cfg.URL)
		if err != nil {
			return nil, eventgate.NewError(t.cfg.Name, eventgate.KindRejected, fmt.Errorf("postgres: connection string: %w", err))
		}
		pc.MaxConns = int32(t.cfg.MaxConns)
		if _, ok := pc.ConnConfig.RuntimeParams["application_name"]; !ok {
			pc.ConnConfig.RuntimeParams["application_name"] = t.cfg.ApplicationName
		}
		pool, err := pgxpool.NewWithConfig(ctx, pc)
		if err != nil {
			return nil, wrapErr(t.cfg.Name, "open pool", err)
		}
		t.pool = pool
	}
	if !t.tableReady {
		if err := t.prepareTable(ctx, t.pool); err != nil {
			return nil, err
		}
		t.tableReady = true
	}
	return t.pool, nil
}

// prepareTable creates the table and index (CreateTable) or checks that the
// table exists.
func (t *Transport) prepareTable(ctx context.Context, pool *pgxpool.Pool) error {
	if t.cfg.CreateTable {
		for _, stmt := range t.sql.create {
			if _, err := pool.Exec(ctx, stmt); err != nil {
				// Two creators racing on IF NOT EXISTS can collide on the
				// catalog's unique index; the loser finds the table made.
				if sqlState(err) == "23505" {
					continue
				}
				return wrapErr(t.cfg.Name, "create table "+t.sql.table, err)
			}
		}
		return nil
	}
	var exists bool
	if err := pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, t.sql.table).Scan(&exists); err != nil {
		return wrapErr(t.cfg.Name, "check table "+t.sql.table, err)
	}
	if !exists {
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected,
			fmt.Errorf("postgres: table %s does not exist (create it, or set create_table=true)", t.sql.table))
	}
	return nil
}

func (t *Transport) closedErr() error {
	return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("postgres: transport is closed"))
}

// Close waits for Sends in flight, then closes the pool. After Close, Send
// returns an error matching eventgate.ErrClosed. It is idempotent.
func (t *Transport) Close() error {
	t.gate.Lock()
	if t.closed {
		t.gate.Unlock()
		return nil
	}
	t.closed = true
	t.gate.Unlock()
	t.mu.Lock()
	pool := t.pool
	t.pool = nil
	t.mu.Unlock()
	if pool != nil {
		pool.Close()
	}
	return nil
}
