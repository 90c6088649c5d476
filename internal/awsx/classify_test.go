package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	smithy "github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/eventgate/eventgate"
)

func apiErr(code string, fault smithy.ErrorFault) error {
	return &smithy.GenericAPIError{Code: code, Message: "m", Fault: fault}
}

func withStatus(status int, err error) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      err,
	}}
}

var errMissing = errors.New("missing thing")

func TestClassifierKind(t *testing.T) {
	custom := Classifier{
		ThrottleCode:         func(code string) bool { return code == "SlowDown" },
		RetryableClientCodes: map[string]bool{"RequestExpired": true},
		Unavailable:          func(err error) bool { return errors.Is(err, errUnavailable) },
		Rejected:             func(err error) bool { return errors.Is(err, errMissing) },
	}
	cases := []struct {
		name string
		c    Classifier
		err  error
		want eventgate.Kind
	}{
		{"deadline", Classifier{}, fmt.Errorf("x: %w", context.DeadlineExceeded), eventgate.KindTimeout},
		{"canceled", Classifier{}, context.Canceled, eventgate.KindUnknown},
		{"default throttle code", Classifier{}, apiErr("KMS.ThrottlingException", smithy.FaultClient), eventgate.KindThrottled},
		{"custom throttle code", custom, apiErr("SlowDown", smithy.FaultClient), eventgate.KindThrottled},
		{"custom throttle replaces default", custom, withStatus(400, apiErr("XThrottled", smithy.FaultClient)), eventgate.KindRejected},
		{"send error", Classifier{}, &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, eventgate.KindConnection},
		{"unavailable hook", custom, withStatus(400, fmt.Errorf("%w", errUnavailable)), eventgate.KindConnection},
		{"503", Classifier{}, withStatus(503, apiErr("Oops", smithy.FaultServer)), eventgate.KindConnection},
		{"429", Classifier{}, withStatus(429, errors.New("slow")), eventgate.KindThrottled},
		{"retryable client code", custom, withStatus(400, apiErr("RequestExpired", smithy.FaultClient)), eventgate.KindUnknown},
		{"server fault", Classifier{}, withStatus(500, apiErr("InternalError", smithy.FaultServer)), eventgate.KindUnknown},
		{"client fault", Classifier{}, withStatus(400, apiErr("InvalidParameter", smithy.FaultClient)), eventgate.KindRejected},
		{"rejected hook", custom, apiErr("Whatever", smithy.FaultUnknown), eventgate.KindUnknown},
		{"rejected hook matches", custom, fmt.Errorf("%w: %w", apiErr("Whatever", smithy.FaultUnknown), errMissing), eventgate.KindRejected},
		{"bare 500", Classifier{}, withStatus(500, errors.New("x")), eventgate.KindUnknown},
		{"bare 404", Classifier{}, withStatus(404, errors.New("x")), eventgate.KindUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.Kind(tc.err); got != tc.want {
				t.Fatalf("Kind(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

var errUnavailable = errors.New("service unavailable")

func TestWrapAddsContextError(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	cause := errors.New("read: connection reset")
	err := Wrap(ctx, "q", "sqs", "send message", cause, Classifier{}.Kind)
	var te *eventgate.TransportError
	if !errors.As(err, &te) {
		t.Fatalf("not a TransportError: %T", err)
	}
	if te.Kind != eventgate.KindTimeout || !errors.Is(err, cause) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got kind %v, err %v", te.Kind, err)
	}
	if want := "sqs: send message: "; len(te.Err.Error()) < len(want) || te.Err.Error()[:len(want)] != want {
		t.Fatalf("message %q does not start with %q", te.Err.Error(), want)
	}

	err = Wrap(context.Background(), "q", "sqs", "op", withStatus(400, apiErr("Bad", smithy.FaultClient)), Classifier{}.Kind)
	if !errors.As(err, &te) || te.Kind != eventgate.KindRejected || te.Transport != "q" {
		t.Fatalf("got %#v", err)
	}
}
