package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/eventgate/eventgate"
)

// isDuplicateKey reports whether a write error code means the document's
// key is already stored (11000; 11001 and 12582 from older servers).
func isDuplicateKey(code int) bool { return code == 11000 || code == 11001 || code == 12582 }

// rejectedCodes are server error codes that mean the document or the
// request can never succeed as it is: retrying would fail the same way.
var rejectedCodes = map[int]string{
	2:     "BadValue",
	9:     "FailedToParse",
	14:    "TypeMismatch",
	22:    "InvalidBSON",
	26:    "NamespaceNotFound",
	52:    "DollarPrefixedFieldName",
	55:    "InvalidDBRef",
	56:    "EmptyFieldName",
	57:    "DottedFieldName",
	61:    "ShardKeyNotFound",
	73:    "InvalidNamespace",
	121:   "DocumentValidationFailure",
	10334: "BSONObjectTooLarge",
	17280: "KeyTooLong",
	17419: "DocumentTooLarge",
}

// unavailableCodes are server error codes that refuse every write, not one
// document: the user may not write or did not authenticate.
// KindUnavailable: the route pauses until that is fixed.
var unavailableCodes = map[int]string{
	13: "Unauthorized",
	18: "AuthenticationFailed",
}

// connectionCodes are server error codes that mean this server cannot take
// writes right now (it is stepping down, shutting down or unreachable);
// another attempt, maybe on another member, can succeed.
var connectionCodes = map[int]string{
	6:     "HostUnreachable",
	7:     "HostNotFound",
	11600: "InterruptedAtShutdown",
	11602: "InterruptedDueToReplStateChange",
	91:    "ShutdownInProgress",
	189:   "PrimarySteppedDown",
	10107: "NotWritablePrimary",
	13435: "NotPrimaryNoSecondaryOk",
	13436: "NotPrimaryOrSecondary",
}

// timeoutCodes are server error codes for operations that ran out of time.
var timeoutCodes = map[int]string{
	50:  "MaxTimeMSExpired",
	89:  "NetworkTimeout",
	262: "ExceededTimeLimit",
}

// throttledCodes: the server is overloaded and asks for less load.
var throttledCodes = map[int]string{
	16500: "RequestRateTooLarge", // Cosmos DB's Mongo API
	462:   "IngressRequestRateLimitExceeded",
}

// kindOf classifies a driver error.
func kindOf(err error) eventgate.Kind {
	switch {
	case err == nil:
		return eventgate.KindUnknown
	case errors.Is(err, context.Canceled):
		return eventgate.KindUnknown
	case errors.As(err, new(topology.ServerSelectionError)):
		// No server could be selected in time: the deployment is
		// unreachable, whether or not a deadline ended the wait.
		return eventgate.KindConnection
	case errors.Is(err, mongo.ErrClientDisconnected):
		return eventgate.KindClosed
	case errors.Is(err, driver.ErrDocumentTooLarge):
		return eventgate.KindRejected
	case mongo.IsNetworkError(err):
		if mongo.IsTimeout(err) {
			return eventgate.KindTimeout
		}
		return eventgate.KindConnection
	case mongo.IsTimeout(err):
		return eventgate.KindTimeout
	}
	var we mongo.WriteException
	if errors.As(err, &we) {
		if we.WriteConcernError != nil {
			return codeKind(we.WriteConcernError.Code, eventgate.KindUnknown)
		}
		if len(we.WriteErrors) > 0 {
			return writeErrorKind(we.WriteErrors[0])
		}
	}
	var ce mongo.CommandError
	if errors.As(err, &ce) {
		if ce.HasErrorLabel("NetworkError") || ce.HasErrorLabel("RetryableWriteError") {
			return eventgate.KindConnection
		}
		return codeKind(int(ce.Code), eventgate.KindUnknown)
	}
	var me mongo.MarshalError
	if errors.As(err, &me) {
		return eventgate.KindSerialization
	}
	return eventgate.Classify(err)
}

// writeErrorKind classifies the error of one document: a write error the
// mapping does not know is taken as being about the document itself, and
// so permanent.
func writeErrorKind(e mongo.WriteError) eventgate.Kind {
	return codeKind(e.Code, eventgate.KindRejected)
}

func codeKind(code int, otherwise eventgate.Kind) eventgate.Kind {
	if _, ok := unavailableCodes[code]; ok {
		return eventgate.KindUnavailable
	}
	if _, ok := rejectedCodes[code]; ok {
		return eventgate.KindRejected
	}
	if _, ok := connectionCodes[code]; ok {
		return eventgate.KindConnection
	}
	if _, ok := timeoutCodes[code]; ok {
		return eventgate.KindTimeout
	}
	if _, ok := throttledCodes[code]; ok {
		return eventgate.KindThrottled
	}
	return otherwise
}

// wrap returns err as a *eventgate.TransportError of transport name, with
// what the transport was doing.
func wrap(name, op string, err error) error {
	if err == nil {
		return nil
	}
	return eventgate.NewError(name, kindOf(err), fmt.Errorf("mongo: %s: %w", op, err))
}

// wrapKind is wrap with a known kind.
func wrapKind(name string, kind eventgate.Kind, op string, err error) error {
	return eventgate.NewError(name, kind, fmt.Errorf("mongo: %s: %w", op, err))
}
