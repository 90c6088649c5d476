package amqp

import (
	"context"
	"errors"
	"fmt"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/eventgate/eventgate"
)

// Errors the broker does not report as *amqp091.Error but this transport
// detects itself. Each is wrapped in a *eventgate.TransportError.
var (
	// ErrUnroutable: the broker returned a mandatory message that no queue
	// was bound for (reply 312 NO_ROUTE). KindRejected.
	ErrUnroutable = errors.New("amqp: message returned unroutable")
	// ErrNacked: the broker negatively acknowledged the message (a queue
	// with overflow=reject-publish is full, or an internal error).
	// KindThrottled: retry after a pause.
	ErrNacked = errors.New("amqp: broker nacked the message")
	// ErrConnectionLost: the connection or the channel closed before the
	// broker confirmed the message; it may or may not have been routed.
	// KindConnection, unless the broker closed the channel with a reply
	// code of its own (see kindOf), such as 404 for a missing exchange.
	ErrConnectionLost = errors.New("amqp: channel closed before the confirm")
)

// kindOf classifies an error from amqp091 or the network.
//
// AMQP reply codes: 311 CONTENT_TOO_LARGE, 312 NO_ROUTE and 406
// PRECONDITION_FAILED (an exchange declared with other properties, a message
// over max_message_size) are KindRejected. 403 ACCESS_REFUSED (including bad
// credentials and vhost access), 530 NOT_ALLOWED and 404 NOT_FOUND (the
// exchange does not exist) are KindUnavailable: the route pauses, keeps the
// events, and resumes when the broker accepts them. Every other code (320
// CONNECTION_FORCED, 501 FRAME_ERROR, 504 CHANNEL_ERROR — amqp091.ErrClosed —,
// 505, 506 RESOURCE_ERROR, 541 INTERNAL_ERROR, …) is KindConnection.
// Non-AMQP errors are classified by eventgate.Classify, with KindUnknown
// promoted to KindConnection for errors of the dial and handshake.
func kindOf(err error) eventgate.Kind {
	switch {
	case errors.Is(err, ErrUnroutable):
		return eventgate.KindRejected
	case errors.Is(err, ErrNacked):
		return eventgate.KindThrottled
	case errors.Is(err, ErrConnectionLost):
		return eventgate.KindConnection
	}
	var ae *amqp091.Error
	if errors.As(err, &ae) {
		switch ae.Code {
		case amqp091.ContentTooLarge, amqp091.NoRoute, amqp091.PreconditionFailed:
			return eventgate.KindRejected
		case amqp091.AccessRefused, amqp091.NotAllowed, amqp091.NotFound:
			return eventgate.KindUnavailable
		}
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
	return eventgate.NewError(name, kindOf(err), fmt.Errorf("amqp: %s: %w", op, err))
}

// dialErr wraps a failed dial or handshake: unknown causes (a reset during
// the handshake, an EOF) are connection failures.
func dialErr(name string, err error) error {
	kind := kindOf(err)
	if kind == eventgate.KindUnknown {
		kind = eventgate.KindConnection
	}
	return eventgate.NewError(name, kind, fmt.Errorf("amqp: connect: %w", err))
}

// ctxErr wraps the error of a context that ended before the broker answered.
func ctxErr(name, op string, ctx context.Context) error {
	err := ctx.Err()
	if cause := context.Cause(ctx); cause != nil && cause != err {
		err = fmt.Errorf("%w: %w", err, cause)
	}
	return eventgate.NewError(name, eventgate.Classify(ctx.Err()), fmt.Errorf("amqp: %s: %w", op, err))
}

func closedErr(name string) error {
	return eventgate.NewError(name, eventgate.KindClosed, errors.New("amqp: transport is closed"))
}

// lostKind is the kind of a publish cut off by a channel or connection that
// closed for reason: the reply code's kind when the broker gave one,
// KindConnection otherwise.
func lostKind(reason error) eventgate.Kind {
	var ae *amqp091.Error
	if errors.As(reason, &ae) {
		return kindOf(ae)
	}
	return eventgate.KindConnection
}
