package cloudwatch

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

// outageFaults are the failure phases of the outage tests, in order: 503
// answers, throttling, then the server stopped and restarted on its address.
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
	{"ServiceUnavailableException", &fakeaws.Fault{Status: 503, Code: "ServiceUnavailableException"}},
	{"ThrottlingException", &fakeaws.Fault{Status: 400, Code: "ThrottlingException"}},
	{"server stopped", nil},
}

// sessionEvents returns perSession events for each of n new sessions, with
// times that follow the order they are sent in.
func sessionEvents(n, perSession int) [][]*eventgate.Event {
	base := time.Now().Add(-time.Hour)
	want := make([][]*eventgate.Event, n)
	for s := range want {
		id := eventgate.NewID()
		sid := fmt.Sprintf("out-%s-%d", id[len(id)-8:], s)
		for i := 0; i < perSession; i++ {
			ev := testEvent(sid, i)
			ev.Time = base.Add(time.Duration(i*n+s) * time.Millisecond)
			want[s] = append(want[s], ev)
		}
	}
	return want
}

func TestOutageDirect(t *testing.T) {
	for _, batch := range []bool{false, true} {
		t.Run(fmt.Sprintf("batch=%v", batch), func(t *testing.T) {
			srv := fakeaws.StartLogs(t)
			group, stream := newStream(t, srv, true)
			tr := newTransport(t, srv, group, stream, nil)
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
				waitFor(t, 30*time.Second, fmt.Sprintf("%d events before %s", at, phase.name), func() bool { return len(srv.Events(group, stream)) >= at })
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
			t.Logf("retry stats: %+v", rt.Stats())
			got, err := newReader(t, srv, group, stream).Fetch(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			testutil.RequireArrived(t, got, want)
		})
	}
}

func TestGatewayRouteSurvivesOutage(t *testing.T) {
	for _, batch := range []int{1, 50} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			srv := fakeaws.StartLogs(t)
			group, stream := newStream(t, srv, false)
			tr := newTransport(t, srv, group, stream, func(c *Config) { c.Create = true })
			want := sessionEvents(6, 100)
			testutil.RouteOutage(t, tr, "cloudwatch", batch, want, outagePhases(srv.Server), func(ctx context.Context) {
				got, err := newReader(t, srv, group, stream).Fetch(ctx)
				if err != nil {
					t.Fatal(err)
				}
				testutil.RequireArrived(t, got, want)
			})
		})
	}
}
