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
	base  string
	token string
	hc    *http.Client
}

func (a *app) client() (*apiClient, error) {
	u, err := url.Parse(a.server)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &exitError{code: 2, err: fmt.Errorf("--server %q: want http(s)://host:port", a.server)}
	}
	return &apiClient{
		base:  strings.TrimRight(a.server, "/"),
		token: a.bearer(),
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
		return resp, &httpError{status: resp.StatusCode, msg: msg}
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

type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string {
	msg := fmt.Sprintf("server answered %d: %s", e.status, e.msg)
	switch e.status {
	case http.StatusUnauthorized:
		msg += " (give a token the server accepts: --token, or $EVENTGATE_TOKEN; the server's are in its $EVENTGATE_TOKENS or auth.tokens)"
	case http.StatusForbidden:
		msg += " (the token lacks the scope this needs: ingest to send, read to query, admin for routes and dead letters)"
	}
	return msg
}
