package sqs

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
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

// rules maps SQS's errors to kinds (see awsx.Classifier.Kind): besides the
// common rules, the codes in throttleCodes are KindThrottled and a missing
// queue is KindRejected.
var rules = awsx.Classifier{
	ThrottleCode:         isThrottleCode,
	RetryableClientCodes: retryableClientCodes,
	Rejected: func(err error) bool {
		var missing *types.QueueDoesNotExist
		return errors.As(err, &missing)
	},
}

// wrap turns an SDK error into an *eventgate.TransportError of the right kind.
func (t *Transport) wrap(ctx context.Context, op string, err error) error {
	return awsx.Wrap(ctx, t.cfg.Name, "sqs", op, err, classify)
}

func (t *Transport) fail(kind eventgate.Kind, err error) error {
	return eventgate.NewError(t.cfg.Name, kind, err)
}

// classify maps an SDK error to a kind with rules.
func classify(err error) eventgate.Kind { return rules.Kind(err) }

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
