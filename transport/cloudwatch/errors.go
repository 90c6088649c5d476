package cloudwatch

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eventgate/eventgate"
)

// retryableClientCodes are client-side (4xx) codes that a later attempt can
// still get past.
var retryableClientCodes = map[string]bool{
	"OperationAbortedException":     true, // concurrent changes to the same resource
	"InvalidSequenceTokenException": true, // no longer returned by the service; a retry gets a fresh token
	"RequestTimeout":                true,
	"RequestTimeoutException":       true,
	"RequestExpired":                true, // clock skew, corrected by the SDK on the next call
	"IDPCommunicationError":         true,
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
	return eventgate.NewError(t.cfg.Name, kind, fmt.Errorf("cloudwatch: %s: %w", op, err))
}

// classify maps an SDK error to a kind:
//
//   - ThrottlingException (and every throttling code the SDK knows, HTTP 429)
//     is KindThrottled;
//   - ServiceUnavailableException, 502/503/504 and connections that failed
//     are KindConnection, deadlines KindTimeout;
//   - other server faults are retryable (KindUnknown);
//   - client faults (InvalidParameterException, ResourceNotFoundException,
//     UnrecognizedClientException, AccessDeniedException, ...) are KindRejected.
func classify(err error) eventgate.Kind {
	if errors.Is(err, context.DeadlineExceeded) {
		return eventgate.KindTimeout
	}
	if errors.Is(err, context.Canceled) {
		return eventgate.KindUnknown
	}
	var apiErr smithy.APIError
	hasAPIErr := errors.As(err, &apiErr)
	if hasAPIErr && strings.Contains(apiErr.ErrorCode(), "Throttl") {
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
	var unavailable *types.ServiceUnavailableException
	if errors.As(err, &unavailable) {
		return eventgate.KindConnection
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
		if apiErr.ErrorFault() == smithy.FaultClient || (status >= 400 && status < 500) {
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
