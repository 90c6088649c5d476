package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eventgate/eventgate"
)

// Classifier maps SDK errors of one AWS service to eventgate kinds. The zero
// value is a working classifier; the fields add what a service says in its
// own words.
type Classifier struct {
	// ThrottleCode reports whether an API error code asks the caller to
	// slow down. Nil: any code that contains "Throttl".
	ThrottleCode func(code string) bool
	// RetryableClientCodes are client-side (4xx) codes a later attempt can
	// still get past (KindUnknown rather than KindRejected).
	RetryableClientCodes map[string]bool
	// Unavailable, when set, reports service errors that mean the service
	// cannot be reached for now (KindConnection).
	Unavailable func(err error) bool
	// Rejected, when set, reports API errors that are permanent
	// (KindRejected) whatever their fault and status say.
	Rejected func(err error) bool
}

// Kind maps an SDK error to a kind:
//
//   - a deadline is KindTimeout, a cancellation KindUnknown;
//   - throttling (ThrottleCode, every throttling error the SDK knows, HTTP
//     429) is KindThrottled;
//   - a request that never got an answer (refused, reset, DNS) is
//     KindConnection, or KindTimeout when it timed out; so are Unavailable
//     errors and 502, 503 and 504 answers KindConnection;
//   - RetryableClientCodes, other 5xx answers and server faults are
//     retryable (KindUnknown);
//   - credentials and permissions refused, a missing queue or log group
//     (see endpointCodes), HTTP 401, 403, 404 and 405, and answers the SDK
//     cannot read (a protocol mismatch) are KindUnavailable: the route
//     pauses rather than dead-letter;
//   - Rejected errors, client faults and other 4xx answers are KindRejected;
//   - anything else is what eventgate.Classify says.
func (c Classifier) Kind(err error) eventgate.Kind {
	if errors.Is(err, context.DeadlineExceeded) {
		return eventgate.KindTimeout
	}
	if errors.Is(err, context.Canceled) {
		return eventgate.KindUnknown
	}
	var apiErr smithy.APIError
	hasAPIErr := errors.As(err, &apiErr)
	if hasAPIErr && c.isThrottleCode(apiErr.ErrorCode()) {
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
	if c.Unavailable != nil && c.Unavailable(err) {
		return eventgate.KindConnection
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	if endpointWide(err, apiErr, hasAPIErr, status) {
		return eventgate.KindUnavailable
	}
	switch status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return eventgate.KindConnection
	case http.StatusTooManyRequests:
		return eventgate.KindThrottled
	}
	if hasAPIErr {
		if c.RetryableClientCodes[apiErr.ErrorCode()] {
			return eventgate.KindUnknown
		}
		if status >= 500 || apiErr.ErrorFault() == smithy.FaultServer {
			return eventgate.KindUnknown
		}
		if (c.Rejected != nil && c.Rejected(err)) || apiErr.ErrorFault() == smithy.FaultClient || (status >= 400 && status < 500) {
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

// endpointCodes are API error codes that refuse every request, not one
// event: credentials, permissions, a missing queue or log group.
var endpointCodes = map[string]bool{
	"AccessDenied": true, "AccessDeniedException": true, "UnrecognizedClientException": true,
	"InvalidClientTokenId": true, "SignatureDoesNotMatch": true, "ExpiredToken": true,
	"ExpiredTokenException": true, "MissingAuthenticationToken": true, "IncompleteSignature": true,
	"InvalidSignatureException": true, "AuthFailure": true, "NotAuthorized": true,
	"AWS.SimpleQueueService.NonExistentQueue": true, "QueueDoesNotExist": true,
	"ResourceNotFoundException": true, "UnknownOperationException": true, "InvalidAction": true,
}

// endpointWide reports errors that mean the endpoint refuses every event
// (KindUnavailable): the codes in endpointCodes, HTTP 401, 403, 404 and 405,
// and answers the SDK cannot read (a protocol mismatch).
func endpointWide(err error, apiErr smithy.APIError, hasAPIErr bool, status int) bool {
	if hasAPIErr && endpointCodes[apiErr.ErrorCode()] {
		return true
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusMethodNotAllowed:
		return true
	}
	var de *smithy.DeserializationError
	return errors.As(err, &de)
}

func (c Classifier) isThrottleCode(code string) bool {
	if c.ThrottleCode != nil {
		return c.ThrottleCode(code)
	}
	return strings.Contains(code, "Throttl")
}

// Wrap turns the error of the SDK call op into an *eventgate.TransportError
// of transport name, of the kind classify gives it, with a message that
// starts with prefix (e.g. "sqs: send message: ..."). When ctx has ended
// and err does not say so, ctx's error is added to the chain, and a passed
// deadline makes the kind KindTimeout.
func Wrap(ctx context.Context, name, prefix, op string, err error, classify func(error) eventgate.Kind) error {
	kind := classify(err)
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = fmt.Errorf("%w (%w)", err, ctxErr)
		if errors.Is(ctxErr, context.DeadlineExceeded) {
			kind = eventgate.KindTimeout
		}
	}
	return eventgate.NewError(name, kind, fmt.Errorf("%s: %s: %w", prefix, op, err))
}
