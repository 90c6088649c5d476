package httpx

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// drainLimit bounds how much of a response body is read and discarded so its
// connection can be reused; a longer body closes the connection instead.
const drainLimit = 64 << 10

// Transport POSTs events to an HTTP endpoint. It is safe for concurrent use.
// Create it with New or Open.
type Transport struct {
	cfg      Config
	url      *url.URL
	redacted string // the URL for messages, without a password
	rt       *http.Transport
	client   *http.Client
	dialer   *net.Dialer
	now      func() time.Time

	mu        sync.RWMutex // guards closed and connected
	closed    bool
	connected bool
	inflight  sync.WaitGroup
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not connect: the first
// Connect or Send does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, fmt.Errorf("httpx: config: URL: %w", err)
	}
	dialer := &net.Dialer{Timeout: cfg.Timeout, KeepAlive: 30 * time.Second}
	rt := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       cfg.TLSConfig,
		ForceAttemptHTTP2:     true,
		MaxConnsPerHost:       cfg.MaxConnsPerHost,
		MaxIdleConns:          cfg.MaxConnsPerHost,
		MaxIdleConnsPerHost:   cfg.MaxConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   cfg.Timeout,
		ExpectContinueTimeout: time.Second,
	}
	t := &Transport{
		cfg:      cfg,
		url:      u,
		redacted: u.Redacted(),
		rt:       rt,
		dialer:   dialer,
		now:      time.Now,
	}
	t.client = &http.Client{
		Transport: rt,
		// A redirect turns a POST into a GET (301, 302, 303) or re-sends it
		// elsewhere; neither is what the configuration asked for, so the 3xx
		// answer is returned and reported as a rejection.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return t, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
// On error nothing is left open.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "http").
func (t *Transport) Name() string { return t.cfg.Name }

// Config returns the configuration in use, with defaults filled in.
func (t *Transport) Config() Config { return t.cfg }

// begin registers an in-flight call; it fails with ErrClosed after Close.
// Every successful begin must be paired with t.inflight.Done().
func (t *Transport) begin() error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("httpx: transport is closed"))
	}
	t.inflight.Add(1)
	return nil
}

// Connect checks that the endpoint's host accepts connections: it dials it
// (and completes the TLS handshake for https) within Config.Timeout, then
// closes that connection; requests open their own pooled connections. It sends
// no request, so it has no effect on the endpoint. Connect is idempotent:
// after one success it returns nil at once. Calling it is optional.
func (t *Transport) Connect(ctx context.Context) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.inflight.Done()
	t.mu.RLock()
	done := t.connected
	t.mu.RUnlock()
	if done {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	addr := t.url.Host
	if t.url.Port() == "" {
		if t.url.Scheme == "https" {
			addr = net.JoinHostPort(t.url.Hostname(), "443")
		} else {
			addr = net.JoinHostPort(t.url.Hostname(), "80")
		}
	}
	var conn net.Conn
	var err error
	if t.url.Scheme == "https" {
		cfg := &tls.Config{}
		if t.cfg.TLSConfig != nil {
			cfg = t.cfg.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = t.url.Hostname()
		}
		conn, err = (&tls.Dialer{NetDialer: t.dialer, Config: cfg}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = t.dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		t.cfg.Logger.DebugContext(ctx, "httpx: connect failed", "url", t.redacted, "err", err)
		return t.requestError("connect to", err)
	}
	_ = conn.Close()
	t.mu.Lock()
	t.connected = true
	t.mu.Unlock()
	return nil
}

// Send POSTs ev as one application/json body in Config.Format, with
// Idempotency-Key set to its id. It returns nil when the endpoint answered
// 2xx. Errors are *eventgate.TransportError; see the package doc for how
// statuses map to kinds.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	if err := checkEvent(ev); err != nil {
		return eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, fmt.Errorf("httpx: encode: %w", err))
	}
	body := appendEvent(make([]byte, 0, ev.Size()+128), t.cfg.Format, ev, false)
	return t.post(ctx, body, ContentTypeJSON, ev.ID)
}

// SendBatch POSTs every event in one application/x-ndjson body, one event per
// line in Config.Format, in order. Line breaks inside an event's Data (which
// JSON only allows as whitespace between tokens) are sent as spaces, so each
// event stays on its line. Idempotency-Key is "<first id>..<last id>" (the id
// alone for one event). The endpoint accepts or refuses the batch as a whole,
// so SendBatch never returns a *eventgate.BatchError: a non-nil error means
// none of the batch may be assumed delivered.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	if len(evs) == 0 {
		return nil
	}
	size := 0
	for i, ev := range evs {
		if err := checkEvent(ev); err != nil {
			return eventgate.NewError(t.cfg.Name, eventgate.KindSerialization, fmt.Errorf("httpx: encode event %d: %w", i, err))
		}
		size += ev.Size() + 128
	}
	body := make([]byte, 0, size)
	for _, ev := range evs {
		body = appendEvent(body, t.cfg.Format, ev, true)
		body = append(body, '\n')
	}
	key := evs[0].ID
	if last := evs[len(evs)-1].ID; len(evs) > 1 && key != "" && last != "" {
		key += ".." + last
	}
	return t.post(ctx, body, ContentTypeNDJSON, key)
}

// post sends body and interprets the answer.
func (t *Transport) post(ctx context.Context, body []byte, contentType, idemKey string) error {
	if err := t.begin(); err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return eventgate.NewError(t.cfg.Name, eventgate.KindRejected, fmt.Errorf("httpx: request: %w", err))
	}
	for k, vs := range t.cfg.Headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			if len(vs) > 0 {
				req.Host = vs[0]
			}
			continue
		}
		req.Header[http.CanonicalHeaderKey(k)] = vs
	}
	if req.Header.Get("User-Agent") == "" {
		req.Header.Set("User-Agent", "eventgate")
	}
	req.Header.Set("Content-Type", contentType)
	if idemKey != "" {
		// net/http also treats a request with this header as idempotent and
		// re-sends it on a fresh connection when a reused one turns out to
		// have been closed by the server.
		req.Header.Set(HeaderIdempotencyKey, idemKey)
	}
	if len(t.cfg.HMACSecret) > 0 {
		ts := strconv.FormatInt(t.now().Unix(), 10)
		req.Header.Set(HeaderTimestamp, ts)
		req.Header.Set(HeaderSignature, Sign(t.cfg.HMACSecret, ts, body))
	}
	resp, err := t.client.Do(req)
	if err != nil {
		t.cfg.Logger.DebugContext(ctx, "httpx: request failed", "url", t.redacted, "err", err)
		return t.requestError("POST", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
		return nil
	}
	err = t.statusError(resp, t.now())
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainLimit))
	t.cfg.Logger.DebugContext(ctx, "httpx: request refused", "url", t.redacted, "status", resp.StatusCode, "err", err)
	return err
}

// Close waits for in-flight requests to finish, then closes the idle
// connections. It is idempotent; afterwards Send, SendBatch and Connect
// return an error matching eventgate.ErrClosed.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	t.inflight.Wait()
	t.rt.CloseIdleConnections()
	return nil
}
