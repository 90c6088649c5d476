// Package loadgen drives a running eventgate server with concurrent clients
// over keep-alive connections, bounded in events and time, and reports the
// throughput and request latency. It refuses any target that is not a
// loopback address.
//
//	res, err := loadgen.Run(ctx, loadgen.Config{URL: "http://127.0.0.1:8080", Token: tok,
//		Mode: loadgen.ModeNDJSON, Clients: 8, Batch: 1000, Events: 1_000_000, Duration: 30 * time.Second})
//	fmt.Println(res)
package loadgen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The request shapes.
const (
	ModeNDJSON = "ndjson" // Batch events per application/x-ndjson request
	ModeSingle = "single" // one event per application/json request
)

// Config bounds and shapes a run. Zero fields take the defaults named.
type Config struct {
	URL      string        // the server's base URL; loopback only (required)
	Token    string        // bearer token with the ingest scope
	Mode     string        // ModeNDJSON (default) or ModeSingle
	Clients  int           // concurrent clients, each with its own keep-alive connection (default 8)
	Batch    int           // events per NDJSON request (default 1000)
	Events   int64         // stop after this many events were sent (default 1,000,000)
	Duration time.Duration // and at the latest after this long (default 30s)
	Sessions int           // events are spread over this many sessions (default 100)
	DataSize int           // approximate bytes of each event's data (default 100)
}

func (c *Config) defaults() {
	if c.Mode == "" {
		c.Mode = ModeNDJSON
	}
	if c.Clients <= 0 {
		c.Clients = 8
	}
	if c.Batch <= 0 {
		c.Batch = 1000
	}
	if c.Mode == ModeSingle {
		c.Batch = 1
	}
	if c.Events <= 0 {
		c.Events = 1_000_000
	}
	if c.Duration <= 0 {
		c.Duration = 30 * time.Second
	}
	if c.Sessions <= 0 {
		c.Sessions = 100
	}
	if c.DataSize <= 0 {
		c.DataSize = 100
	}
}

// Result is what a run measured.
type Result struct {
	Mode      string
	Clients   int
	Batch     int
	Events    int64 // events the server accepted
	Requests  int64 // requests answered 200
	Failures  int64 // requests that failed or were not answered 200
	Elapsed   time.Duration
	PerSecond float64       // accepted events per second
	P50, P99  time.Duration // request latency (200 answers)
	Max       time.Duration
	FirstErr  string
}

func (r Result) String() string {
	s := fmt.Sprintf("%s: %d clients, %d events/request: %d events in %s = %.0f events/s; %d requests, latency p50 %s p99 %s max %s; %d failed",
		r.Mode, r.Clients, r.Batch, r.Events, r.Elapsed.Round(time.Millisecond), r.PerSecond, r.Requests,
		r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(10*time.Microsecond), r.Failures)
	if r.FirstErr != "" {
		s += " (first: " + r.FirstErr + ")"
	}
	return s
}

// CheckLoopback returns an error unless every address of rawURL's host is a
// loopback address.
func CheckLoopback(ctx context.Context, rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		return fmt.Errorf("loadgen: %q is not an http(s) URL", rawURL)
	}
	host := u.Hostname()
	var ips []net.IP
	if ip := net.ParseIP(host); ip != nil {
		ips = []net.IP{ip}
	} else if strings.EqualFold(host, "localhost") {
		ips = []net.IP{net.IPv4(127, 0, 0, 1)}
	} else {
		addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
		if err != nil {
			return fmt.Errorf("loadgen: resolve %s: %w", host, err)
		}
		for _, a := range addrs {
			ips = append(ips, a.IP)
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return fmt.Errorf("loadgen: %s is not a loopback address; load is only generated against this machine", host)
		}
	}
	return nil
}

// maxFailures stops a run that only fails.
const maxFailures = 1000

// Run drives the server until Events were accepted, Duration passed, ctx
// ended, or maxFailures requests failed.
func Run(ctx context.Context, cfg Config) (Result, error) {
	cfg.defaults()
	if cfg.Mode != ModeNDJSON && cfg.Mode != ModeSingle {
		return Result{}, fmt.Errorf("loadgen: mode %q is not ndjson or single", cfg.Mode)
	}
	if err := CheckLoopback(ctx, cfg.URL); err != nil {
		return Result{}, err
	}
	runEnd := time.Now().Add(cfg.Duration)
	ctx, cancel := context.WithDeadline(ctx, runEnd)
	defer cancel()
	u, _ := url.Parse(cfg.URL)
	path := strings.TrimRight(u.Path, "/") + "/v1/events"
	// https goes through net/http; plain http through rawConn.
	var hc *http.Client
	if u.Scheme == "https" {
		tr := &http.Transport{MaxIdleConns: cfg.Clients, MaxIdleConnsPerHost: cfg.Clients, MaxConnsPerHost: cfg.Clients,
			DisableCompression: true, IdleConnTimeout: 30 * time.Second}
		defer tr.CloseIdleConnections()
		hc = &http.Client{Transport: tr, Timeout: 60 * time.Second}
	}
	hostport := u.Host
	if u.Port() == "" {
		hostport = net.JoinHostPort(u.Hostname(), "80")
	}

	var budget atomic.Int64
	budget.Store(cfg.Events)
	var failures atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, cfg.Clients)
	accepted := make([]int64, cfg.Clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range cfg.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bodies := makeBodies(cfg, c)
			ct := "application/x-ndjson"
			if cfg.Mode == ModeSingle {
				ct = "application/json"
			}
			reqs := make([][]byte, len(bodies))
			for i, b := range bodies {
				reqs[i] = rawRequest(u.Host, path, cfg.Token, ct, b)
			}
			rc := &rawConn{addr: hostport}
			defer rc.close()
			for i := 0; ctx.Err() == nil; i++ {
				// Reserve a request's events from the budget.
				if budget.Add(-int64(cfg.Batch)) < -int64(cfg.Batch)+1 {
					return
				}
				t0 := time.Now()
				var n int
				var err error
				if hc != nil {
					n, err = post(ctx, hc, cfg.URL+"/v1/events", cfg.Token, ct, bodies[i%len(bodies)])
				} else {
					var status int
					var answer []byte
					if status, answer, err = rc.post(ctx, reqs[i%len(reqs)]); err == nil {
						n, err = acceptedCount(status, answer)
					}
				}
				d := time.Since(t0)
				if err != nil {
					if ctx.Err() != nil || !time.Now().Before(runEnd) {
						return // the run ended while the request was out
					}
					firstErr.CompareAndSwap(nil, err.Error())
					if failures.Add(1) >= maxFailures {
						cancel()
						return
					}
					budget.Add(int64(cfg.Batch))
					continue
				}
				lat[c] = append(lat[c], d)
				accepted[c] += int64(n)
			}
		}()
	}
	wg.Wait()
	res := Result{Mode: cfg.Mode, Clients: cfg.Clients, Batch: cfg.Batch, Elapsed: time.Since(start), Failures: failures.Load()}
	var all []time.Duration
	for c := range cfg.Clients {
		res.Events += accepted[c]
		all = append(all, lat[c]...)
	}
	res.Requests = int64(len(all))
	if s := res.Elapsed.Seconds(); s > 0 {
		res.PerSecond = float64(res.Events) / s
	}
	if len(all) > 0 {
		slices.Sort(all)
		res.P50 = all[len(all)*50/100]
		res.P99 = all[min(len(all)-1, len(all)*99/100)]
		res.Max = all[len(all)-1]
	}
	if v, ok := firstErr.Load().(string); ok {
		res.FirstErr = v
	}
	if res.Requests == 0 && res.Failures > 0 {
		return res, errors.New("loadgen: every request failed: " + res.FirstErr)
	}
	return res, nil
}

// makeBodies prepares a few request bodies for client c, spreading events
// over the sessions.
func makeBodies(cfg Config, c int) [][]byte {
	pad := strings.Repeat("x", max(cfg.DataSize-60, 1))
	bodies := make([][]byte, 4)
	k := c * 7919
	for i := range bodies {
		var b bytes.Buffer
		for range cfg.Batch {
			fmt.Fprintf(&b, `{"session_id":"load-%d","type":"load","data":{"client":%d,"n":%d,"pad":%q}}`,
				k%cfg.Sessions, c, k, pad)
			if cfg.Mode == ModeNDJSON {
				b.WriteByte('\n')
			}
			k++
		}
		bodies[i] = b.Bytes()
	}
	return bodies
}

// post sends one request and returns the number of events accepted.
func post(ctx context.Context, hc *http.Client, target, token, ct string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", target, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", ct)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	return acceptedCount(resp.StatusCode, b)
}
