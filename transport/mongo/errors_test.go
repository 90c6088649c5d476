package mongo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver"
	"go.mongodb.org/mongo-driver/v2/x/mongo/driver/topology"

	"github.com/eventgate/eventgate"
)

func TestKindOf(t *testing.T) {
	writeErr := func(code int) error {
		return mongo.WriteException{WriteErrors: mongo.WriteErrors{{Code: code, Message: "x"}}}
	}
	cases := []struct {
		name string
		err  error
		want eventgate.Kind
	}{
		{"server selection", topology.ServerSelectionError{Wrapped: errors.New("no reachable servers")}, eventgate.KindConnection},
		{"server selection ended by deadline", topology.ServerSelectionError{Wrapped: context.DeadlineExceeded}, eventgate.KindConnection},
		{"deadline", fmt.Errorf("insert: %w", context.DeadlineExceeded), eventgate.KindTimeout},
		{"canceled", context.Canceled, eventgate.KindUnknown},
		{"network error", mongo.CommandError{Labels: []string{"NetworkError"}, Wrapped: &net.OpError{Op: "read", Err: errors.New("reset")}}, eventgate.KindConnection},
		{"refused", &net.OpError{Op: "dial", Err: errors.New("connection refused")}, eventgate.KindConnection},
		{"document too large (driver)", driver.ErrDocumentTooLarge, eventgate.KindRejected},
		{"document too large (server)", writeErr(10334), eventgate.KindRejected},
		{"validation", writeErr(121), eventgate.KindRejected},
		{"bad value", writeErr(2), eventgate.KindRejected},
		{"unknown write error is about the document", writeErr(99999), eventgate.KindRejected},
		{"not primary write error", writeErr(10107), eventgate.KindConnection},
		{"write concern timeout", mongo.WriteException{WriteConcernError: &mongo.WriteConcernError{Code: 64}}, eventgate.KindUnknown},
		{"unauthorized", mongo.CommandError{Code: 13}, eventgate.KindUnavailable},
		{"auth failed", mongo.CommandError{Code: 18}, eventgate.KindUnavailable},
		{"shutting down", mongo.CommandError{Code: 91}, eventgate.KindConnection},
		{"max time", mongo.CommandError{Code: 50}, eventgate.KindTimeout},
		{"retryable label", mongo.CommandError{Code: 1234, Labels: []string{"RetryableWriteError"}}, eventgate.KindConnection},
		{"throttled", mongo.CommandError{Code: 16500}, eventgate.KindThrottled},
		{"unknown command error", mongo.CommandError{Code: 1234}, eventgate.KindUnknown},
		{"client disconnected", mongo.ErrClientDisconnected, eventgate.KindClosed},
	}
	for _, c := range cases {
		if got := kindOf(c.err); got != c.want {
			t.Errorf("%s: kindOf(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
		werr := wrap("mongo", "op", c.err)
		var te *eventgate.TransportError
		if !errors.As(werr, &te) || te.Transport != "mongo" || te.Kind != c.want || !strings.Contains(werr.Error(), c.err.Error()) {
			t.Errorf("%s: wrap gave %#v", c.name, werr)
		}
	}
}

func TestEncodeErrorsAreTransportErrors(t *testing.T) {
	tr, err := New(Config{MaxDocumentSize: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	_, err = tr.encode(&eventgate.Event{ID: "x", SessionID: "s", Data: []byte(`{"a":`)})
	if !errors.Is(err, eventgate.ErrSerialization) {
		t.Errorf("invalid data: got %v, want ErrSerialization", err)
	}
	_, err = tr.encode(&eventgate.Event{ID: "x", SessionID: "s", Data: []byte(`"` + strings.Repeat("a", 300) + `"`)})
	if !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("oversized document: got %v, want ErrRejected", err)
	}
}
