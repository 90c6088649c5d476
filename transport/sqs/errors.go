package sqs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eventgate/eventgate"
)

// throttleCodes are error codes SQS (and AWS generally) use to ask the caller
// to slow down, in addition to the SDK's own list.
var throttleCodes = map[string]bool{
	"RequestThrottled":    true,
	"ThrottlingException": true,
	"Throttling":          true,
	"KmsThrottled":        true,
	"AWS.SimpleQueueService.RequestThrottled": true,
	"TooManyRequestsException":                true,
	"RequestLimitExceeded":                    true,
}

// isThrottleCode reports whether an error code asks the caller to slow down:
// a known code, or any code that says "Throttl" (SQS answers KMS throttling
// with "KMS.ThrottlingException", for example).
func isThrottleCode(code string) bool {
	return throttleCodes[code] || strings.Contains(code, "Throttl")
}

// retryableClientCodes are client-side (4xx) codes that a later attempt can
// still get past.
var retryableClientCodes = map[string]bool{
	"RequestTimeout":          true,
	"RequestTimeoutException": true,
	"RequestExpired":          true, // clock skew, corrected by the SDK on the next call
	"IDPCommunicationError":   true,
}

// wrap turns an SDK error into an *eventgate.TransportError of the right kind.
func (t *Transport) wrap(ctx context.Context, op string, err error) error {
	kind := classify(err)
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			kind = eventgate.KindTimeout
		}
	}
	return eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("sqs: %s: %w", op, err))
}

func (t *Transport) fail(kind eventgate.Kind, err error) error {
	return eventgate.NewError(t.cfg.Name, kind, err)
}

// classify maps an SDK error to a kind:
//
//   - throttling (RequestThrottled, ThrottlingException, KmsThrottled, ...)
//     is KindThrottled;
//   - a request that never got an answer (refused, reset, DNS) is
//     KindConnection, a deadline KindTimeout;
//   - 5xx answers and server faults are retryable (KindConnection for 502,
//     503 and 504, KindUnknown otherwise);
//   - other 4xx answers (validation, missing queue, auth) are KindRejected.
func classify(err error) eventgate.Kind {
	if errors.Is(err, context.DeadlineExceeded) {
		return eventgate.KindTimeout
	}
	if errors.Is(err, context.Canceled) {
		return eventgate.KindUnknown
	}
	var apiErr smithy.APIError
	hasAPIErr := errors.As(err, &apiErr)
	if hasAPIErr && isThrottleCode(apiErr.ErrorCode()) {
		return eventgate.KindThrottled
	}
	if retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary {
		return eventgate.KindThrottled
	}
	var sendErr *smithyhttp.RequestSendError
	if errors.As(err, &sendErr) {
		if k := eventgate.Classify(sendErr.Err); k == eventgate.KindTimeout {
			return k
		}
		return eventgate.KindConnection
	}
	if retry.IsErrorTimeouts(retry.DefaultTimeouts).IsErrorTimeout(err) == aws.TrueTernary {
		return eventgate.KindTimeout
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return eventgate.KindConnection
	case http.StatusTooManyRequests:
		return eventgate.KindThrottled
	}
	if hasAPIErr {
		if retryableClientCodes[apiErr.ErrorCode()] {
			return eventgate.KindUnknown
		}
		if status >= 500 || apiErr.ErrorFault() == smithy.FaultServer {
			return eventgate.KindUnknown
		}
		var missing *types.QueueDoesNotExist
		if errors.As(err, &missing) || apiErr.ErrorFault() == smithy.FaultClient || (status >= 400 && status < 500) {
			return eventgate.KindRejected
		}
	}
	if status >= 500 {
		return eventgate.KindUnknown
	}
	if status >= 400 {
		return eventgate.KindRejected
	}
	return eventgate.Classify(err)
}

// entryError maps one Failed entry of a SendMessageBatch answer: throttling
// is KindThrottled, a sender fault is KindRejected (permanent), anything else
// is retryable.
func (t *Transport) entryError(e types.BatchResultErrorEntry) error {
	code := aws.ToString(e.Code)
	cause := fmt.Errorf("sqs: batch entry failed: %s: %s (sender fault: %t)", code, aws.ToString(e.Message), e.SenderFault)
	switch {
	case isThrottleCode(code):
		return eventgate.NewError(t.cfg.Name, eventgate.KindThrottled, cause)
	case e.SenderFault:
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected, cause)
	default:
		return eventgate.NewError(t.cfg.Name, eventgate.KindUnknown, cause)
	}
}
