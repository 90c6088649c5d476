package batchx

import (
	"context"
	"time"
)

// CallContext bounds one call to a downstream: it returns ctx as it is when
// ctx already has a deadline, and otherwise ctx with timeout applied. The
// caller must call the CancelFunc when the call is done.
func CallContext(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, timeout)
}
