package eventgate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Kind classifies a transport failure. The kind, not the transport's name,
// decides whether a delivery is retried.
type Kind uint8

// The kinds of transport failure.
const (
	// KindUnknown is an unclassified failure; it is treated as retryable.
	KindUnknown Kind = iota
	// KindConnection: the downstream could not be reached or the connection
	// broke. Retryable.
	KindConnection
	// KindTimeout: the downstream did not answer in time. Retryable.
	KindTimeout
	// KindSerialization: the event could not be encoded for the downstream.
	// Permanent.
	KindSerialization
	// KindRejected: the downstream refused the event for good (validation,
	// authorization, size). Permanent: never retried, dead-lettered.
	KindRejected
	// KindCircuitOpen: a circuit breaker refused the call without trying.
	// Retryable later.
	KindCircuitOpen
	// KindClosed: the transport was closed. Permanent for that transport.
	KindClosed
	// KindThrottled: the downstream asked the caller to slow down. Retryable,
	// usually with a RetryAfter hint.
	KindThrottled
	// KindUnavailable: the endpoint refuses every event, not this one, until
	// someone fixes it: authentication or authorization failed, the
	// destination (stream, queue, topic, table, exchange, URL) does not
	// exist, or the two sides do not speak the same protocol. Not permanent
	// and never dead-lettered: a route pauses, keeps its events in the
	// journal, probes with one event on a backoff, and resumes by itself.
	KindUnavailable
)

var kindNames = [...]string{
	KindUnknown:       "unknown",
	KindConnection:    "connection",
	KindTimeout:       "timeout",
	KindSerialization: "serialization",
	KindRejected:      "rejected",
	KindCircuitOpen:   "circuit_open",
	KindClosed:        "closed",
	KindThrottled:     "throttled",
	KindUnavailable:   "unavailable",
}

// String returns the kind's lower-case name, as used in stats and logs.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Retryable reports whether a failure of this kind may succeed when tried again.
func (k Kind) Retryable() bool {
	switch k {
	case KindSerialization, KindRejected, KindClosed:
		return false
	}
	return true
}

// Sentinels for errors.Is. A *TransportError matches the sentinel of its kind:
// errors.Is(err, ErrTimeout) holds for every timeout, whichever transport
// reported it.
var (
	ErrConnection    = &TransportError{Kind: KindConnection}
	ErrTimeout       = &TransportError{Kind: KindTimeout}
	ErrSerialization = &TransportError{Kind: KindSerialization}
	ErrRejected      = &TransportError{Kind: KindRejected}
	ErrCircuitOpen   = &TransportError{Kind: KindCircuitOpen}
	ErrClosed        = &TransportError{Kind: KindClosed}
	ErrThrottled     = &TransportError{Kind: KindThrottled}
	ErrUnavailable   = &TransportError{Kind: KindUnavailable}
)

// TransportError is the one error type transports return. It carries the
// transport's name, the kind of failure, the cause, and an optional hint of how
// long to wait before trying again.
type TransportError struct {
	Transport  string        // name of the transport that failed, e.g. "redis"
	Kind       Kind          // what kind of failure; decides retryability
	Err        error         // the cause; may be nil for sentinels
	RetryAfter time.Duration // the downstream's wait hint; 0 when none was given
}

// NewError returns a *TransportError of the given kind for transport name,
// wrapping cause.
func NewError(name string, kind Kind, cause error) *TransportError {
	return &TransportError{Transport: name, Kind: kind, Err: cause}
}

// Error formats as "eventgate: <transport>: <kind>: <cause>".
func (e *TransportError) Error() string {
	var b strings.Builder
	b.WriteString("eventgate: ")
	if e.Transport != "" {
		b.WriteString(e.Transport)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if e.RetryAfter > 0 {
		b.WriteString(" (retry after ")
		b.WriteString(e.RetryAfter.String())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// Is reports whether target is the sentinel of e's kind.
func (e *TransportError) Is(target error) bool {
	t, ok := target.(*TransportError)
	if !ok {
		return false
	}
	return isSentinel(t) && t.Kind == e.Kind
}

func isSentinel(t *TransportError) bool {
	switch t {
	case ErrConnection, ErrTimeout, ErrSerialization, ErrRejected, ErrCircuitOpen, ErrClosed, ErrThrottled, ErrUnavailable:
		return true
	}
	return false
}

// Retryable reports whether delivering again may succeed after err. Errors
// that are not *TransportError are classified by Classify first. A nil error
// is not retryable.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	return Classify(err).Retryable()
}

// Permanent reports whether err means the event can never be delivered and
// must go to dead letters.
func Permanent(err error) bool { return err != nil && !Retryable(err) }

// Unavailable reports whether err says the whole endpoint refuses events
// (KindUnavailable): a route pauses on it instead of dead-lettering.
func Unavailable(err error) bool { return err != nil && Classify(err) == KindUnavailable }

// RetryAfterHint returns the wait hint carried by the first *TransportError
// in err's chain, if any.
func RetryAfterHint(err error) (time.Duration, bool) {
	var te *TransportError
	if errors.As(err, &te) && te.RetryAfter > 0 {
		return te.RetryAfter, true
	}
	return 0, false
}

// Classify returns the kind of err: the kind of the first *TransportError in
// its chain, else a kind inferred from well-known standard errors (context
// deadlines and net timeouts are KindTimeout; refused or reset connections
// and other net errors are KindConnection; everything else KindUnknown).
func Classify(err error) Kind {
	if err == nil {
		return KindUnknown
	}
	var te *TransportError
	if errors.As(err, &te) {
		return te.Kind
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return KindTimeout
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return KindTimeout
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, net.ErrClosed) {
		return KindConnection
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return KindConnection
	}
	return KindUnknown
}

// Wrap returns err as a *TransportError of transport name. An error that
// already has one in its chain is returned unchanged; any other error is
// classified with Classify. A nil err stays nil.
func Wrap(name string, err error) error {
	if err == nil {
		return nil
	}
	var te *TransportError
	if errors.As(err, &te) {
		return err
	}
	return &TransportError{Transport: name, Kind: Classify(err), Err: err}
}

// BatchError reports a partly accepted batch: Failed maps the index of each
// event that was not accepted (an index into the slice given to SendBatch) to
// its own error. Events whose index is absent were accepted.
type BatchError struct {
	Failed map[int]error
}

// Error summarizes the failures.
func (e *BatchError) Error() string {
	var first error
	firstIdx := -1
	for i, err := range e.Failed {
		if firstIdx < 0 || i < firstIdx {
			firstIdx, first = i, err
		}
	}
	if first == nil {
		return "eventgate: batch: no failures"
	}
	return fmt.Sprintf("eventgate: batch: %d event(s) failed; event %d: %v", len(e.Failed), firstIdx, first)
}

// ErrorAt returns the error for the event at index i of the batch, or nil
// when it was accepted.
func (e *BatchError) ErrorAt(i int) error { return e.Failed[i] }
