package eventgatetest

import (
	"errors"

	"github.com/eventgate/eventgate"
)

// ErrInjected is the cause of every failure a Recorder or Flaky makes up when
// no error was given: errors.Is(err, ErrInjected) tells an injected failure
// from a real one.
var ErrInjected = errors.New("eventgatetest: injected failure")

// injectedError returns the error an injected failure reports for transport
// name: err itself when given, else a retryable connection error.
func injectedError(name string, err error) error {
	if err != nil {
		return err
	}
	return eventgate.NewError(name, eventgate.KindConnection, ErrInjected)
}
