package server

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/eventgate/eventgate"
)

// sessionsCollector reports the stored sessions at scrape time, from the
// session catalog (one indexed read, whatever the number of sessions).
type sessionsCollector struct {
	gw                                   *eventgate.Gateway
	stored, events, bytes, pruned, noCat *prometheus.Desc
}

func newSessionsCollector(gw *eventgate.Gateway) *sessionsCollector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &sessionsCollector{
		gw:     gw,
		stored: d("eventgate_sessions_stored", "Sessions with at least one event in the session files."),
		events: d("eventgate_session_events_stored", "Events in the session files."),
		bytes:  d("eventgate_session_bytes_stored", "Size of the session files (what retention.max_bytes bounds)."),
		pruned: d("eventgate_sessions_pruned_total", "Sessions deleted by retention or prune since the process started."),
		noCat:  d("eventgate_session_catalog_unusable", "1 while the session catalog is not used (listing reads every file; the next start rebuilds it)."),
	}
}

func (c *sessionsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.stored, c.events, c.bytes, c.pruned, c.noCat} {
		ch <- d
	}
}

func (c *sessionsCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.gw.Stats()
	ch <- prometheus.MustNewConstMetric(c.pruned, prometheus.CounterValue, float64(st.SessionsPruned))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t, ok, err := c.gw.SessionTotals(ctx)
	ch <- prometheus.MustNewConstMetric(c.noCat, prometheus.GaugeValue, b2f(!ok || err != nil))
	if ok && err == nil {
		ch <- prometheus.MustNewConstMetric(c.stored, prometheus.GaugeValue, float64(t.Sessions))
		ch <- prometheus.MustNewConstMetric(c.events, prometheus.GaugeValue, float64(t.Events))
		ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(t.Bytes))
	}
}
