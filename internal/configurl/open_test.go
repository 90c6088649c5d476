package configurl

import (
	"context"
	"errors"
	"testing"

	"github.com/eventgate/eventgate"
)

type fakeTransport struct {
	connectErr error
	connected  bool
	closed     bool
}

func (f *fakeTransport) Connect(context.Context) error { f.connected = true; return f.connectErr }
func (f *fakeTransport) Close() error                  { f.closed = true; return nil }

func TestOpen(t *testing.T) {
	errParse := errors.New("bad url")
	errNew := errors.New("bad config")
	errConnect := errors.New("refused")
	var made *fakeTransport
	parse := func(raw string) (string, error) {
		if raw == "bad" {
			return "", errParse
		}
		return raw, nil
	}
	create := func(cfg string) (*fakeTransport, error) {
		switch cfg {
		case "invalid":
			return nil, errNew
		case "down":
			made = &fakeTransport{connectErr: errConnect}
		default:
			made = &fakeTransport{}
		}
		return made, nil
	}

	tr, err := Open(t.Context(), "ok", "x", parse, create)
	if err != nil || tr != made || !tr.connected || tr.closed {
		t.Fatalf("Open(ok) = %+v, %v", tr, err)
	}

	tr, err = Open(t.Context(), "bad", "x", parse, create)
	var te *eventgate.TransportError
	if tr != nil || !errors.As(err, &te) || te.Kind != eventgate.KindRejected || te.Transport != "x" || !errors.Is(err, errParse) {
		t.Fatalf("Open(bad) = %v, %#v", tr, err)
	}

	if tr, err = Open(t.Context(), "invalid", "x", parse, create); tr != nil || err != errNew {
		t.Fatalf("Open(invalid) = %v, %v", tr, err)
	}

	tr, err = Open(t.Context(), "down", "x", parse, create)
	if tr != nil || err != errConnect || !made.closed {
		t.Fatalf("Open(down) = %v, %v; closed %v", tr, err, made.closed)
	}
}
