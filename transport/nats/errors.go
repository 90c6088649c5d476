package nats

import (
	"context"
	"errors"
	"fmt"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/eventgate/eventgate"
)

// classify maps an error from the NATS client or the JetStream API to a Kind.
//
//   - no responders, disconnected, closed or draining connections, a full
//     reconnect buffer, no servers, stale connections → KindConnection;
//   - client and server timeouts, ack timeouts, ctx deadlines → KindTimeout;
//   - authorization and permission violations, revoked credentials,
//     JetStream not enabled for the account, and JetStream API errors 401,
//     403 and 404 (no such stream) → KindUnavailable: the route pauses;
//   - maximum payload exceeded (client or stream limit), invalid subjects or
//     headers, and other JetStream API errors with a 4xx code → KindRejected;
//   - JetStream API errors with a 5xx code (e.g. "jetstream not enabled",
//     storage temporarily unavailable) → KindConnection, retryable;
//   - anything else → eventgate.Classify (KindUnknown is retryable).
func classify(err error) eventgate.Kind {
	switch {
	case errors.Is(err, natsgo.ErrMaxPayload),
		errors.Is(err, jetstream.ErrStreamMessageExceedsMaximum),
		errors.Is(err, jetstream.ErrMaxBytesExceeded),
		errors.Is(err, natsgo.ErrBadSubject),
		errors.Is(err, jetstream.ErrInvalidSubject),
		errors.Is(err, natsgo.ErrBadHeaderMsg),
		errors.Is(err, natsgo.ErrHeadersNotSupported):
		return eventgate.KindRejected
	case errors.Is(err, natsgo.ErrAuthorization),
		errors.Is(err, natsgo.ErrPermissionViolation),
		errors.Is(err, natsgo.ErrAuthRevoked),
		errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return eventgate.KindUnavailable
	case errors.Is(err, natsgo.ErrTimeout),
		errors.Is(err, jetstream.ErrAsyncPublishTimeout),
		errors.Is(err, context.DeadlineExceeded):
		return eventgate.KindTimeout
	case errors.Is(err, natsgo.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, natsgo.ErrConnectionClosed),
		errors.Is(err, jetstream.ErrConnectionClosed),
		errors.Is(err, natsgo.ErrConnectionDraining),
		errors.Is(err, natsgo.ErrConnectionReconnecting),
		errors.Is(err, natsgo.ErrDisconnected),
		errors.Is(err, natsgo.ErrReconnectBufExceeded),
		errors.Is(err, natsgo.ErrNoServers),
		errors.Is(err, natsgo.ErrStaleConnection),
		errors.Is(err, natsgo.ErrAuthExpired),
		errors.Is(err, natsgo.ErrMaxConnectionsExceeded),
		errors.Is(err, jetstream.ErrServerShutdown),
		errors.Is(err, jetstream.ErrJetStreamPublisherClosed),
		errors.Is(err, jetstream.ErrTooManyStalledMsgs):
		return eventgate.KindConnection
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		switch {
		case apiErr.Code == 408:
			return eventgate.KindTimeout
		case apiErr.Code == 401 || apiErr.Code == 403 || apiErr.Code == 404:
			return eventgate.KindUnavailable
		case apiErr.Code >= 400 && apiErr.Code < 500:
			return eventgate.KindRejected
		case apiErr.Code >= 500:
			return eventgate.KindConnection
		}
	}
	return eventgate.Classify(err)
}

// wrapErr returns err as a *eventgate.TransportError of transport name,
// adding op as context.
func wrapErr(name, op string, err error) error {
	if err == nil {
		return nil
	}
	var te *eventgate.TransportError
	if errors.As(err, &te) {
		return err
	}
	return eventgate.NewError(name, classify(err), fmt.Errorf("nats: %s: %w", op, err))
}
