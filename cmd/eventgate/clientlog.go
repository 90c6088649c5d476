package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisLog hands the Redis client library's own log lines (failed dials
// from its connection pool) to the command's logger at debug level, instead
// of the library's default of raw lines on standard error.
type redisLog struct{ log *slog.Logger }

// Printf implements the Redis client's logging interface.
func (r redisLog) Printf(ctx context.Context, format string, v ...any) {
	r.log.DebugContext(ctx, strings.TrimSpace(fmt.Sprintf(format, v...)), "library", "go-redis")
}

// routeClientLogs sends the client libraries' process-wide logs through
// log. The Redis client keeps its logger process-wide (and swaps it
// atomically); the other client libraries take a logger per client or log
// nothing by default.
func routeClientLogs(log *slog.Logger) {
	redis.SetLogger(redisLog{log: log})
}
