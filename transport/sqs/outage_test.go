package sqs

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/fakeaws"
	"github.com/eventgate/eventgate/internal/testutil"
	"github.com/eventgate/eventgate/transport"
)

// outageFaults are the failure phases an outage test goes through, in order:
// the service answers 503, then throttles, then the server is stopped and
// restarted on the same address.
// outagePhases turns outageFaults into the phases of testutil.RouteOutage
// against srv.
func outagePhases(srv *fakeaws.Server) []testutil.OutagePhase {
	phases := make([]testutil.OutagePhase, len(outageFaults))
	for i, f := range outageFaults {
		phases[i] = testutil.OutagePhase{Name: f.name}
		if f.fault != nil {
			phases[i].Begin = func() error { srv.SetOutage(f.fault); return nil }
			phases[i].End = func() error { srv.SetOutage(nil); return nil }
		} else {
			phases[i].Begin = func() error { srv.Stop(); return nil }
			phases[i].End = srv.Restart
		}
	}
	return phases
}

var outageFaults = []struct {
	name  string
	fault *fakeaws.Fault // nil: stop the server instead
}{
	{"503 ServiceUnavailable", &fakeaws.Fault{Status: 503, Code: "ServiceUnavailable"}},
	{"throttling", &fakeaws.Fault{Status: 403, Code: "RequestThrottled", QueryCode: "RequestThrottled"}},
	{"server stopped", nil},
}

// sessionEvents returns perSession events for each of n new sessions.
func sessionEvents(n, perSession int) [][]*eventgate.Event {
	want := make([][]*eventgate.Event, n)
	for s := range want {
		id := eventgate.NewID()
		sid := fmt.Sprintf("out-%s-%d", id[len(id)-8:], s)
		for i := 0; i < perSession; i++ {
			want[s] = append(want[s], testEvent(sid, i))
		}
	}
	return want
}

// checkArrived fails unless every event of want is in got and each session's
// events first occur in got in the order they were sent.

// TestOutageDirect sends through transport.Retry while the server fails in
// each way of outageFaults and recovers: every Send eventually succeeds and
// every event arrives in per-session order.
func TestOutageDirect(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			srv := fakeaws.StartSQS(t)
			q := newQueue(t, srv, true)
			tr := newTransport(t, srv, q, nil)
			rt := transport.Retry(tr, transport.WithMaxAttempts(0),
				transport.WithInitialDelay(2*time.Millisecond), transport.WithMaxDelay(20*time.Millisecond))
			defer rt.Close()
			want := sessionEvents(4, 150)
			done := make(chan error, 1)
			go func() {
				for i := range want[0] {
					round := make([]*eventgate.Event, len(want))
					for s := range want {
						round[s] = want[s][i]
					}
					var err error
					if batch {
						err = rt.(eventgate.BatchSender).SendBatch(t.Context(), round)
					} else {
						for _, ev := range round {
							if err = rt.Send(t.Context(), ev); err != nil {
								break
							}
						}
					}
					if err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
			total := len(want) * len(want[0])
			for n, phase := range outageFaults {
				at := total * (n + 1) / (len(outageFaults) + 1)
				waitFor(t, 30*time.Second, fmt.Sprintf("%d messages before %s", at, phase.name), func() bool { return len(srv.Messages(q)) >= at })
				retries := rt.Stats().Retries
				if phase.fault != nil {
					srv.SetOutage(phase.fault)
				} else {
					srv.Stop()
				}
				waitFor(t, 30*time.Second, "retries during "+phase.name, func() bool { return rt.Stats().Retries >= retries+3 })
				if phase.fault != nil {
					srv.SetOutage(nil)
				} else if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
			}
			if err := <-done; err != nil {
				t.Fatalf("send: %v", err)
			}
			st := rt.Stats()
			t.Logf("retry stats: %+v", st)
			got, err := newReceiver(t, srv, q).FetchAll(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			testutil.RequireArrived(t, got, want)
		})
	}
}

// TestGatewayRouteSurvivesOutage logs events through an eventgate Gateway
// whose route delivers to SQS while the service fails in each way of
// outageFaults: every event arrives, in per-session order, none is
// dead-lettered.
func TestGatewayRouteSurvivesOutage(t *testing.T) {
	for _, batch := range []int{1, 25} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			srv := fakeaws.StartSQS(t)
			q := newQueue(t, srv, true)
			tr := newTransport(t, srv, q, nil)
			want := sessionEvents(6, 100)
			testutil.RouteOutage(t, tr, "sqs", batch, want, outagePhases(srv.Server), func(ctx context.Context) {
				got, err := newReceiver(t, srv, q).FetchAll(ctx)
				if err != nil {
					t.Fatal(err)
				}
				testutil.RequireArrived(t, got, want)
			})
		})
	}
}
