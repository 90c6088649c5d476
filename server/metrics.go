package server

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/eventgate/eventgate"
)

// metrics holds the server's own Prometheus registry (no global state).
type metrics struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	events       *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	duplicates   *prometheus.CounterVec
	bytes        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	inFlight     prometheus.Gauge
	overload     prometheus.Counter
	streams      prometheus.Gauge
	authFailures *prometheus.CounterVec
}

func newMetrics(gw *eventgate.Gateway) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_ingest_requests_total", Help: "Ingest requests by body shape and status code.",
	}, []string{"shape", "code"})
	m.events = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_ingest_events_total", Help: "Events accepted (durable) by ingest, by body shape.",
	}, []string{"shape"})
	m.rejected = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_ingest_rejected_events_total", Help: "Items refused by ingest, by body shape.",
	}, []string{"shape"})
	m.duplicates = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_ingest_duplicate_events_total", Help: "Items accepted by ingest as duplicates (their id was already recorded; counted in eventgate_ingest_events_total too), by body shape.",
	}, []string{"shape"})
	m.bytes = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_ingest_bytes_total", Help: "Request body bytes read by ingest, by body shape.",
	}, []string{"shape"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "eventgate_ingest_duration_seconds",
		Help:    "Time from an ingest request's start to its answer (events durable), by body shape.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"shape"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "eventgate_http_requests_in_flight", Help: "HTTP requests being served.",
	})
	m.overload = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "eventgate_http_overload_rejections_total", Help: "Requests answered 503 because the concurrency cap was reached.",
	})
	m.streams = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "eventgate_sse_streams", Help: "Server-Sent Event streams open.",
	})
	m.authFailures = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "eventgate_http_auth_failures_total", Help: "Requests refused by authentication (unauthenticated) or authorization (forbidden).",
	}, []string{"reason"})
	m.reg.MustRegister(m.requests, m.events, m.rejected, m.duplicates, m.bytes, m.latency, m.inFlight, m.overload,
		m.streams, m.authFailures, newGatewayCollector(gw),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *metrics) observeIngest(shape string, code, accepted, duplicates, rejected int, n int64, d time.Duration) {
	m.requests.WithLabelValues(shape, strconv.Itoa(code)).Inc()
	if accepted > 0 {
		m.events.WithLabelValues(shape).Add(float64(accepted))
	}
	if duplicates > 0 {
		m.duplicates.WithLabelValues(shape).Add(float64(duplicates))
	}
	if rejected > 0 {
		m.rejected.WithLabelValues(shape).Add(float64(rejected))
	}
	m.bytes.WithLabelValues(shape).Add(float64(n))
	m.latency.WithLabelValues(shape).Observe(d.Seconds())
}

// gatewayCollector reads the Gateway's Stats at scrape time.
type gatewayCollector struct {
	gw *eventgate.Gateway

	logged, nextSeq, journalBytes, sessionLines, sessionsFailing, detached *prometheus.Desc

	damageUnacked, damagedRanges, damagedRecords, routeDamaged *prometheus.Desc

	dedupKeys, dedupDuplicates, dedupEvicted, dedupExpired *prometheus.Desc

	delivered, failed, retries, deadLettered, dropped, deadLetters,
	backlogEvents, backlogBytes, inFlight, lag, backlogFull, breaker *prometheus.Desc
}

func newGatewayCollector(gw *eventgate.Gateway) *gatewayCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &gatewayCollector{
		gw:              gw,
		logged:          d("eventgate_logged_events_total", "Events recorded in the journal since the process started."),
		nextSeq:         d("eventgate_journal_next_seq", "The seq the next recorded event gets."),
		journalBytes:    d("eventgate_journal_bytes", "Journal bytes not yet settled by every reader."),
		sessionLines:    d("eventgate_session_lines_total", "Session-file lines written since the process started."),
		sessionsFailing: d("eventgate_session_files_failing", "1 when the session-file projection has stopped on an error."),
		detached:        d("eventgate_route_detached", "1 for a route no longer configured whose saved position holds back the journal (eventgate routes forget).", "route"),
		damageUnacked:   d("eventgate_journal_damage_unacknowledged", "Journal damage reports no operator has acknowledged (GET /v1/damage, POST /v1/damage/ack); /readyz is 503 while above 0."),
		damagedRanges:   d("eventgate_journal_damaged_ranges_total", "Damaged or missing journal ranges found since the process started."),
		damagedRecords:  d("eventgate_journal_damaged_records_total", "Records those ranges lost."),
		dedupKeys:       d("eventgate_dedup_keys", "Event ids the dedup index remembers now."),
		dedupDuplicates: d("eventgate_dedup_duplicates_total", "Events not recorded because their id was already recorded within the dedup window (Log and ingest)."),
		dedupEvicted:    d("eventgate_dedup_evicted_total", "Ids the dedup index forgot within their window because it reached its key cap (dedup.max_keys)."),
		dedupExpired:    d("eventgate_dedup_expired_total", "Ids the dedup index forgot because their window ended."),
		routeDamaged:    d("eventgate_route_damaged_total", "Events the route skipped because the journal lost them (dead letters of kind damaged).", "route"),
		delivered:       d("eventgate_route_delivered_total", "Events the route's transport acknowledged.", "route"),
		failed:          d("eventgate_route_failed_attempts_total", "Delivery attempts that failed.", "route"),
		retries:         d("eventgate_route_retries_total", "Redeliveries after a backoff wait.", "route"),
		deadLettered:    d("eventgate_route_dead_lettered_total", "Events given up on and dead-lettered.", "route"),
		dropped:         d("eventgate_route_dropped_total", "Events skipped by the drop-oldest backlog policy.", "route"),
		deadLetters:     d("eventgate_route_dead_letters", "Entries in the route's dead letters now.", "route"),
		backlogEvents:   d("eventgate_route_backlog_events", "Events recorded and not yet settled by the route.", "route"),
		backlogBytes:    d("eventgate_route_backlog_bytes", "Journal bytes of the route's backlog.", "route"),
		inFlight:        d("eventgate_route_in_flight", "Events being delivered.", "route"),
		lag:             d("eventgate_route_lag_seconds", "Age of the route's oldest unsettled event.", "route"),
		backlogFull:     d("eventgate_route_backlog_full", "1 while the route blocks ingest (backlog over its bound).", "route"),
		breaker:         d("eventgate_route_breaker_state", "1 for the circuit breaker's current state.", "route", "state"),
	}
}

func (c *gatewayCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.logged, c.nextSeq, c.journalBytes, c.sessionLines, c.sessionsFailing, c.detached,
		c.damageUnacked, c.damagedRanges, c.damagedRecords, c.routeDamaged,
		c.dedupKeys, c.dedupDuplicates, c.dedupEvicted, c.dedupExpired, c.delivered, c.failed, c.retries, c.deadLettered, c.dropped, c.deadLetters, c.backlogEvents,
		c.backlogBytes, c.inFlight, c.lag, c.backlogFull, c.breaker} {
		ch <- d
	}
}

func (c *gatewayCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.gw.Stats()
	mc := func(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, v, labels...)
	}
	mc(c.logged, prometheus.CounterValue, float64(st.Logged))
	mc(c.nextSeq, prometheus.GaugeValue, float64(st.NextSeq))
	mc(c.journalBytes, prometheus.GaugeValue, float64(st.JournalBytes))
	mc(c.sessionLines, prometheus.CounterValue, float64(st.SessionLines))
	mc(c.sessionsFailing, prometheus.GaugeValue, b2f(st.SessionsError != ""))
	mc(c.damageUnacked, prometheus.GaugeValue, float64(st.DamageUnacked))
	mc(c.damagedRanges, prometheus.CounterValue, float64(st.DamagedRanges))
	mc(c.damagedRecords, prometheus.CounterValue, float64(st.DamagedRecords))
	if st.Dedup.Enabled {
		mc(c.dedupKeys, prometheus.GaugeValue, float64(st.Dedup.Keys))
		mc(c.dedupDuplicates, prometheus.CounterValue, float64(st.Dedup.Duplicates))
		mc(c.dedupEvicted, prometheus.CounterValue, float64(st.Dedup.Evicted))
		mc(c.dedupExpired, prometheus.CounterValue, float64(st.Dedup.Expired))
	}
	for _, name := range st.DetachedRoutes {
		mc(c.detached, prometheus.GaugeValue, 1, name)
	}
	for name, r := range st.Routes {
		mc(c.delivered, prometheus.CounterValue, float64(r.Delivered), name)
		mc(c.failed, prometheus.CounterValue, float64(r.FailedAttempts), name)
		mc(c.retries, prometheus.CounterValue, float64(r.Retries), name)
		mc(c.deadLettered, prometheus.CounterValue, float64(r.DeadLettered), name)
		mc(c.dropped, prometheus.CounterValue, float64(r.Dropped), name)
		mc(c.routeDamaged, prometheus.CounterValue, float64(r.Damaged), name)
		mc(c.deadLetters, prometheus.GaugeValue, float64(r.DeadLetters), name)
		mc(c.backlogEvents, prometheus.GaugeValue, float64(r.BacklogEvents), name)
		mc(c.backlogBytes, prometheus.GaugeValue, float64(r.BacklogBytes), name)
		mc(c.inFlight, prometheus.GaugeValue, float64(r.InFlight), name)
		mc(c.lag, prometheus.GaugeValue, r.Lag.Seconds(), name)
		mc(c.backlogFull, prometheus.GaugeValue, b2f(r.BacklogFull), name)
		if r.BreakerState != "" {
			for _, s := range []string{"closed", "open", "half-open"} {
				mc(c.breaker, prometheus.GaugeValue, b2f(r.BreakerState == s), name, s)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
