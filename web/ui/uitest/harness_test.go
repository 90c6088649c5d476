package uitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
	"github.com/eventgate/eventgate/server"
)

const (
	chromiumPath = "/usr/bin/chromium"
	ingestToken  = "ui-ingest-token-0123456789"
	readToken    = "ui-read-token-0123456789ab"
	adminToken   = "ui-admin-token-0123456789a"
)

// env is a Gateway in a temporary directory, its server on a loopback port,
// and one Chromium tab.
type env struct {
	t      *testing.T
	gw     *eventgate.Gateway
	url    string
	client *http.Client
	ctx    context.Context // the tab
}

// newEnv starts the Gateway, the server (one token per scope) and a fresh
// headless Chromium with its own profile directory. Everything is stopped
// when the test ends, the browser first.
func newEnv(t *testing.T, gwOpts ...eventgate.Option) *env {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if testutil.Required() {
			t.Fatalf("chromium is required (%s=1) but missing at %s: %v", testutil.RequireEnv, chromiumPath, err)
		}
		t.Skipf("chromium not installed at %s (apt-get install chromium)", chromiumPath)
	}
	gw, err := eventgate.Open(t.TempDir(), gwOpts...)
	if err != nil {
		t.Fatal(err)
	}
	var toks []server.Token
	for _, c := range []struct {
		name, secret string
		scope        server.Scope
	}{{"ingest", ingestToken, server.ScopeIngest}, {"reader", readToken, server.ScopeRead}, {"operator", adminToken, server.ScopeAdmin}} {
		tok, err := server.NewToken(c.name, c.secret, c.scope)
		if err != nil {
			t.Fatal(err)
		}
		toks = append(toks, tok)
	}
	srv, err := server.New(gw, server.Options{Tokens: toks})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() { defer close(served); _ = hs.Serve(ln) }()
	e := &env{t: t, gw: gw, url: "http://" + ln.Addr().String(),
		client: &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_ = hs.Shutdown(ctx)
		<-served
		e.client.CloseIdleConnections()
		if err := gw.Close(ctx); err != nil {
			t.Errorf("gateway close: %v", err)
		}
	})

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 800),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancel()
		acancel()
	})
	// The first run starts the browser; it lives as long as ctx, so this
	// run has no deadline of its own.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	e.ctx = ctx
	return e
}

// run runs actions in the tab, failing the test after timeout.
func (e *env) run(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	e.t.Helper()
	if err := e.try(timeout, actions...); err != nil {
		e.shot("failure")
		e.t.Fatal(err)
	}
}

func (e *env) try(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(e.ctx, timeout)
	defer cancel()
	return chromedp.Do(ctx, actions...)
}

// evalJS evaluates expr in the page (awaiting a promise) and decodes its value.
func evalJS[T any](e *env, expr string) T {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		e.shot("failure")
		e.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func (e *env) text(expr string) string {
	e.t.Helper()
	return evalJS[string](e, expr)
}

// waitJS waits until the expression is true in the page, at most timeout.
func (e *env) waitJS(expr string, timeout time.Duration) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(e.ctx, timeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
		defer cancel()
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 2000)`))
		e.shot("failure")
		e.t.Fatalf("waiting for %s: %v\npage text:\n%s", expr, err, got)
	}
}

// open loads path of the UI and signs in with token ("" = stays at the login form).
func (e *env) open(path, token string) {
	e.t.Helper()
	e.run(30*time.Second, chromedp.Navigate(e.url+path), chromedp.WaitVisible(chromedp.CSS("#token")))
	if token == "" {
		return
	}
	e.run(20*time.Second,
		chromedp.SendKeys(chromedp.CSS("#token"), token),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(chromedp.CSS("#who")),
	)
}

// shot writes a screenshot of the page, named after the test, to
// $EVENTGATE_UI_SCREENSHOTS (default: ./screenshots, not committed).
func (e *env) shot(name string) {
	dir := os.Getenv("EVENTGATE_UI_SCREENSHOTS")
	if dir == "" {
		dir = "screenshots"
	}
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		e.t.Logf("screenshot %s: %v", name, err)
		return
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		e.t.Logf("screenshot %s: %v", name, err)
		return
	}
	f := filepath.Join(dir, strings.ReplaceAll(e.t.Name(), "/", "_")+"-"+name+".png")
	if err := os.WriteFile(f, png, 0o644); err != nil {
		e.t.Logf("screenshot %s: %v", name, err)
	}
}

// ev is an event to post.
type ev struct {
	Session string          `json:"session_id"`
	Type    string          `json:"type,omitempty"`
	Time    string          `json:"time,omitempty"`
	Data    json.RawMessage `json:"data"`
}

func at(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// post sends events through POST /v1/events and waits until they are in
// their session files.
func (e *env) post(evs ...ev) {
	e.t.Helper()
	e.postNoFlush(evs...)
	e.flush()
}

func (e *env) postNoFlush(evs ...ev) {
	e.t.Helper()
	var b bytes.Buffer
	for _, x := range evs {
		if x.Data == nil {
			x.Data = json.RawMessage(`{}`)
		}
		line, err := json.Marshal(x)
		if err != nil {
			e.t.Fatal(err)
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	req, err := http.NewRequest("POST", e.url+"/v1/events", &b)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+ingestToken)
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted && resp.StatusCode != http.StatusOK {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(resp.Body)
		e.t.Fatalf("post: %d %s", resp.StatusCode, msg.String())
	}
}

func (e *env) flush() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := e.gw.Flush(ctx); err != nil {
		e.t.Fatal(err)
	}
}

// switchable is a transport that refuses events of type "poison" while
// refusing is set, and accepts everything else.
type switchable struct{ refusing atomic.Bool }

func (s *switchable) Send(ctx context.Context, e *eventgate.Event) error {
	if s.refusing.Load() && e.Type == "poison" {
		return fmt.Errorf("sink refuses poison: %w", eventgate.ErrRejected)
	}
	return nil
}

func (s *switchable) Close() error { return nil }

var _ eventgate.Transport = (*switchable)(nil)

func q(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
