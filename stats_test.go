package eventgate_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/eventgatetest"
	"github.com/eventgate/eventgate/transport"
)

func TestStatsReportBreakerStateThroughWrappers(t *testing.T) {
	ctx := ctxT(t)
	rec := eventgatetest.NewRecorder()
	rec.FailAll(nil)
	tr := transport.Retry(transport.CircuitBreaker(rec, transport.WithConsecutiveFailures(2),
		transport.WithOpenTimeout(time.Hour)), transport.WithMaxAttempts(1))
	g := openGW(t, t.TempDir(), eventgate.WithTransport("b", tr, fastRetry))
	if got := g.Stats().Routes["b"].BreakerState; got != "closed" {
		t.Fatalf("breaker state %q before any failure", got)
	}
	if err := g.Log(ctx, &eventgate.Event{SessionID: "s", Data: json.RawMessage(`1`)}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return g.Stats().Routes["b"].BreakerState == "open" })
	st := g.Stats().Routes["b"]
	if st.FailedAttempts < 2 || st.LastError == "" || st.BacklogEvents != 1 || st.Lag <= 0 {
		t.Fatalf("stats during the outage: %+v", st)
	}
}
