package mqtt

import (
	"context"
	"errors"
	"fmt"
	"strings"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/eventgate/eventgate"
)

// connectKind classifies a failed connection attempt: a broker that refuses
// our credentials, client id or protocol will refuse them again
// (KindUnavailable: the route pauses until that is fixed); anything else is
// a connection problem.
func connectKind(err error) eventgate.Kind {
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword),
		errors.Is(err, packets.ErrorRefusedNotAuthorised),
		errors.Is(err, packets.ErrorRefusedIDRejected),
		errors.Is(err, packets.ErrorRefusedBadProtocolVersion):
		return eventgate.KindUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return eventgate.KindTimeout
	}
	if k := eventgate.Classify(err); k == eventgate.KindTimeout {
		return k
	}
	return eventgate.KindConnection
}

// publishKind classifies the error of a publish token. paho reports them
// as plain errors: a lost connection ("connection lost before Publish
// completed", "not Connected") or a write that timed out.
func publishKind(err error) eventgate.Kind {
	switch {
	case errors.Is(err, paho.ErrNotConnected):
		return eventgate.KindConnection
	case strings.Contains(err.Error(), "timeout"):
		return eventgate.KindTimeout
	}
	if k := eventgate.Classify(err); k != eventgate.KindUnknown {
		return k
	}
	return eventgate.KindConnection
}

// ctxError turns the end of ctx while waiting for the broker into a
// transport error: KindTimeout for a deadline, else the context's error
// (cancellation) wrapped, which is retryable.
func ctxError(name, op string, ctx context.Context) error {
	err := context.Cause(ctx)
	kind := eventgate.Classify(err)
	if errors.Is(err, context.DeadlineExceeded) {
		kind = eventgate.KindTimeout
	}
	return eventgate.NewError(name, kind, fmt.Errorf("mqtt: %s: %w", op, err))
}

// wrapKind returns err as a transport error of the given kind.
func wrapKind(name string, kind eventgate.Kind, op string, err error) error {
	return eventgate.NewError(name, kind, fmt.Errorf("mqtt: %s: %w", op, err))
}
