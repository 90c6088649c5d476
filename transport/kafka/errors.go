package kafka

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/eventgate/eventgate"
)

// rejectedCodes are the Kafka errors that mean this record can never be
// written as it is: too large, a bad topic, no permission, a policy or
// format the broker refuses.
var rejectedCodes = map[int16]bool{
	kerr.MessageTooLarge.Code:             true,
	kerr.RecordListTooLarge.Code:          true,
	kerr.InvalidTopicException.Code:       true,
	kerr.InvalidRecord.Code:               true,
	kerr.InvalidTimestamp.Code:            true,
	kerr.PolicyViolation.Code:             true,
	kerr.InvalidRequiredAcks.Code:         true,
	kerr.UnsupportedForMessageFormat.Code: true,
	kerr.UnsupportedCompressionType.Code:  true,
	kerr.UnsupportedVersion.Code:          true,
	kerr.InvalidRequest.Code:              true,
}

// unavailableCodes are the Kafka errors that refuse every record, not one:
// authorization and authentication. KindUnavailable: the route pauses.
var unavailableCodes = map[int16]bool{
	kerr.TopicAuthorizationFailed.Code:           true,
	kerr.ClusterAuthorizationFailed.Code:         true,
	kerr.TransactionalIDAuthorizationFailed.Code: true,
	kerr.SaslAuthenticationFailed.Code:           true,
	kerr.UnsupportedSaslMechanism.Code:           true,
}

// kindOf classifies an error from franz-go. Kafka's own error codes decide
// first: the codes in unavailableCodes are KindUnavailable, those in
// rejectedCodes KindRejected, REQUEST_TIMED_OUT is
// KindTimeout, THROTTLING_QUOTA_EXCEEDED is KindThrottled, every other code
// kerr.IsRetriable reports is KindConnection, and the remaining codes (the
// idempotent producer's sequence and epoch errors, UNKNOWN_SERVER_ERROR, …)
// are KindUnknown, retryable, because the client resets its producer state
// and a new attempt can succeed. Client-side conditions follow: a closed
// client is KindClosed, a full buffer KindThrottled, a record timeout
// KindTimeout, exhausted retries and broker connection failures
// KindConnection. Anything else is classified by eventgate.Classify.
func kindOf(err error) eventgate.Kind {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		switch {
		case unavailableCodes[ke.Code]:
			return eventgate.KindUnavailable
		case rejectedCodes[ke.Code]:
			return eventgate.KindRejected
		case ke.Code == kerr.RequestTimedOut.Code:
			return eventgate.KindTimeout
		case ke.Code == kerr.ThrottlingQuotaExceeded.Code:
			return eventgate.KindThrottled
		case kerr.IsRetriable(err):
			return eventgate.KindConnection
		}
		return eventgate.KindUnknown
	}
	switch {
	case errors.Is(err, kgo.ErrClientClosed):
		return eventgate.KindClosed
	case errors.Is(err, kgo.ErrMaxBuffered):
		return eventgate.KindThrottled
	case errors.Is(err, kgo.ErrRecordTimeout), errors.Is(err, context.DeadlineExceeded):
		return eventgate.KindTimeout
	case errors.Is(err, kgo.ErrRecordRetries), errors.Is(err, kgo.ErrAborting):
		return eventgate.KindConnection
	}
	var eof *kgo.ErrFirstReadEOF
	if errors.As(err, &eof) || kgo.IsRetryableBrokerErr(err) {
		return eventgate.KindConnection
	}
	return eventgate.Classify(err)
}

// wrapErr returns err as a *eventgate.TransportError of the transport named
// name, with op saying what failed.
func wrapErr(name, op string, err error) error {
	if err == nil {
		return nil
	}
	var te *eventgate.TransportError
	if errors.As(err, &te) {
		return err
	}
	return eventgate.NewError(name, kindOf(err), fmt.Errorf("kafka: %s: %w", op, err))
}

// ctxErr wraps the error of a context that ended before the broker answered:
// a deadline is KindTimeout, a cancellation keeps eventgate.Classify's kind.
func ctxErr(name, op string, ctx context.Context) error {
	cause := context.Cause(ctx)
	err := ctx.Err()
	if cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return eventgate.NewError(name, eventgate.Classify(ctx.Err()), fmt.Errorf("kafka: %s: %w", op, err))
}
