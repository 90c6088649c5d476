package cloudwatch

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/awsx"
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

// rules maps CloudWatch Logs' errors to kinds (see awsx.Classifier.Kind):
// besides the common rules, ServiceUnavailableException is KindConnection.
// Client faults (InvalidParameterException, ResourceNotFoundException,
// UnrecognizedClientException, AccessDeniedException, ...) are KindRejected.
var rules = awsx.Classifier{
	RetryableClientCodes: retryableClientCodes,
	Unavailable: func(err error) bool {
		var unavailable *types.ServiceUnavailableException
		return errors.As(err, &unavailable)
	},
}

// wrap turns an SDK error into an *eventgate.TransportError of the right kind.
func (t *Transport) wrap(ctx context.Context, op string, err error) error {
	return awsx.Wrap(ctx, t.cfg.Name, "cloudwatch", op, err, classify)
}

// classify maps an SDK error to a kind with rules.
func classify(err error) eventgate.Kind { return rules.Kind(err) }
