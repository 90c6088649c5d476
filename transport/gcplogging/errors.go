package gcplogging

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/eventgate/eventgate"
)

// kindOf maps a gRPC status code to an eventgate kind:
//
//	Unavailable                      KindConnection
//	DeadlineExceeded                 KindTimeout
//	ResourceExhausted                KindThrottled
//	Aborted, Internal, Unknown       KindUnknown (retryable)
//	Canceled                         KindUnknown (retryable)
//	InvalidArgument, PermissionDenied,
//	Unauthenticated, PermissionDenied, NotFound,
//	Unimplemented                    KindUnavailable (the route pauses)
//	every other code                 KindRejected
func kindOf(c codes.Code) eventgate.Kind {
	switch c {
	case codes.Unauthenticated, codes.PermissionDenied, codes.NotFound, codes.Unimplemented:
		return eventgate.KindUnavailable
	case codes.Unavailable:
		return eventgate.KindConnection
	case codes.DeadlineExceeded:
		return eventgate.KindTimeout
	case codes.ResourceExhausted:
		return eventgate.KindThrottled
	case codes.Aborted, codes.Internal, codes.Unknown, codes.Canceled:
		return eventgate.KindUnknown
	}
	return eventgate.KindRejected
}

// wrap turns a client error into an *eventgate.TransportError, carrying the
// server's RetryInfo delay as the RetryAfter hint.
func (t *Transport) wrap(ctx context.Context, op string, err error) error {
	var kind eventgate.Kind
	st, ok := status.FromError(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		kind = eventgate.KindTimeout
	case ok:
		kind = kindOf(st.Code())
	default:
		kind = eventgate.Classify(err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			kind = eventgate.KindTimeout
		}
	}
	te := eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("gcplogging: %s: %w", op, err))
	if ok {
		te.RetryAfter = retryDelay(st)
	}
	return te
}

// entryError maps the status of one entry of a partly written batch.
func (t *Transport) entryError(st *status.Status) error {
	te := eventgate.NewError(t.cfg.Name, kindOf(st.Code()),
		fmt.Errorf("gcplogging: entry not written: %s: %s", st.Code(), st.Message()))
	te.RetryAfter = retryDelay(st)
	return te
}

func retryDelay(st *status.Status) time.Duration {
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration()
		}
	}
	return 0
}
