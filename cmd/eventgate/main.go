// Command eventgate is the eventgate daemon and its command-line tools: serve
// the HTTP API, log events locally, read sessions, follow them live, send and
// replay events, look after dead letters, and check a configuration.
//
//	eventgate serve -c eventgate.yaml
//	eventgate log < events.ndjson
//	eventgate sessions
//	eventgate events <session> --type tool_call --since 1h
//	eventgate tail -f <session>
//	eventgate send --server http://127.0.0.1:8080 events.ndjson
//	eventgate replay --to redis://127.0.0.1:6379/0 --session <session>
//	eventgate dlq list <route>
//	eventgate check -c eventgate.yaml
//	eventgate version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, stop, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// exitError carries a process exit status.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// failed returns an error that exits with status 1 after printing msg.
func failed(format string, a ...any) error {
	return &exitError{code: 1, err: fmt.Errorf(format, a...)}
}

// run executes the command line args and returns the exit status. stop ends
// the signal handling of ctx, so that a second signal kills the process.
func run(ctx context.Context, stop context.CancelFunc, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{ctx: ctx, stopSignals: stop, stdin: stdin, stdout: stdout, stderr: stderr}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.err == nil || ee.err.Error() == "" {
			return code
		}
	}
	fmt.Fprintln(stderr, errorLine(err))
	return code
}

// errorLine is the message printed for err: one "eventgate: " prefix, also
// where wrapped library errors carry their own.
func errorLine(err error) string {
	msg := strings.TrimPrefix(err.Error(), "eventgate: ")
	msg = strings.ReplaceAll(msg, ": eventgate: ", ": ")
	return "eventgate: " + msg
}
