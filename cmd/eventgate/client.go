package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// apiClient talks to a running server.
type apiClient struct {
	base      string
	token     string
	tokenFrom string // where token came from: "--token", "$EVENTGATE_TOKEN", …; "" when none was given
	hc        *http.Client
}

func (a *app) client() (*apiClient, error) {
	u, err := url.Parse(a.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &exitError{code: 2, err: fmt.Errorf("--server %q: want http(s)://host:port", a.server)}
	}
	token, from := a.bearerFrom()
	return &apiClient{
		base:      strings.TrimRight(a.server, "/"),
		token:     token,
		tokenFrom: from,
		hc: &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     30 * time.Second,
		}},
	}, nil
}

func (c *apiClient) close() { c.hc.CloseIdleConnections() }

// do sends a request and returns the response when its status is 2xx;
// otherwise it reads the error body and returns it as an error.
func (c *apiClient) do(ctx context.Context, method, path, contentType string, body io.Reader, hdr http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("cannot reach the server at %s (is `eventgate serve` running there? --server or $EVENTGATE_SERVER names it): %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &eb) == nil && eb.Error != "" {
			msg = eb.Error
		}
		return resp, &httpError{status: resp.StatusCode, msg: msg, tokenFrom: c.tokenFrom, sent: c.token != ""}
	}
	return resp, nil
}

// getJSON GETs path and decodes the JSON answer into v.
func (c *apiClient) getJSON(ctx context.Context, path string, v any) error {
	resp, err := c.do(ctx, "GET", path, "", nil, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// httpError is a non-2xx answer of the server.
type httpError struct {
	status    int
	msg       string
	sent      bool   // whether a token was sent
	tokenFrom string // where the token sent came from
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("server answered %d: %s", e.status, e.msg)
	switch {
	case e.status == http.StatusUnauthorized && !e.sent:
		msg += " (no token was sent: export EVENTGATE_TOKEN=<secret>, one the server accepts " +
			"(its $EVENTGATE_TOKENS or auth.tokens), or pass --token)"
	case e.status == http.StatusUnauthorized:
		msg += fmt.Sprintf(" (the token from %s is not one the server accepts: set $EVENTGATE_TOKEN, or --token, "+
			"to a secret of the server's $EVENTGATE_TOKENS or auth.tokens)", e.tokenFrom)
	case e.status == http.StatusForbidden:
		msg += " (the token lacks the scope this needs: ingest to send, read to query, admin for routes and dead letters)"
	}
	return msg
}
