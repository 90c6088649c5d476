package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	e2eToken     = "e2e-ingest-0123456789abcdef"
	e2eReadToken = "e2e-reader-0123456789abcdef"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildBinary builds the eventgate command once per test run, into binDir.
func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		builtBin = filepath.Join(binDir, "eventgate")
		out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for the writer goroutine of exec.Cmd.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type daemon struct {
	t      *testing.T
	bin    string
	dir    string
	base   string
	cmd    *exec.Cmd
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited; err is then set
	err    error
	client *http.Client
}

func startDaemon(t *testing.T, bin, dir string, extraArgs ...string) *daemon {
	t.Helper()
	addr := freePort(t)
	args := append([]string{"serve", "--dir", dir, "--listen", addr, "--drain-timeout", "5s"}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "EVENTGATE_TOKENS="+e2eToken+":ingest,"+e2eReadToken+":read+admin",
		"EVENTGATE_CONFIG=", "EVENTGATE_DIR=", "AGENT_LOG_DIR=")
	d := &daemon{t: t, bin: bin, dir: dir, base: "http://" + addr, cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}}
	cmd.Stderr = d.stderr
	cmd.Stdout = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.err = cmd.Wait(); close(d.exited) }()
	t.Cleanup(func() {
		d.client.CloseIdleConnections()
		select {
		case <-d.exited:
		default:
			_ = cmd.Process.Kill()
			<-d.exited
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := d.client.Get(d.base + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return d
			}
		}
		select {
		case <-d.exited:
			t.Fatalf("the daemon exited: %v\n%s", d.err, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the daemon did not become healthy: %v\n%s", err, d.stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (d *daemon) request(method, path, token, ct string, body io.Reader, hdr http.Header) *http.Response {
	d.t.Helper()
	req, err := http.NewRequest(method, d.base+path, body)
	if err != nil {
		d.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := d.client.Do(req)
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	return resp
}

type ingestAnswer struct {
	Accepted int      `json:"accepted"`
	IDs      []string `json:"ids"`
	Errors   []struct {
		Index int    `json:"index"`
		Line  int    `json:"line"`
		Error string `json:"error"`
	} `json:"errors"`
}

func (d *daemon) post(ct, body string, wantCode, wantAccepted int) ingestAnswer {
	d.t.Helper()
	resp := d.request("POST", "/v1/events", e2eToken, ct, strings.NewReader(body), nil)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var a ingestAnswer
	if err := json.Unmarshal(b, &a); err != nil || resp.StatusCode != wantCode || a.Accepted != wantAccepted || len(a.IDs) != wantAccepted {
		d.t.Fatalf("POST %q: %d %s (want %d, %d accepted)", body, resp.StatusCode, b, wantCode, wantAccepted)
	}
	return a
}

// events polls the query API until the session has n events (the session
// files are written just after the events are durable in the journal).
func (d *daemon) events(session string, n int) []map[string]json.RawMessage {
	d.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp := d.request("GET", "/v1/sessions/"+session+"/events", e2eReadToken, "", nil, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var page struct {
			Events []map[string]json.RawMessage `json:"events"`
		}
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, &page); err != nil {
				d.t.Fatal(err)
			}
			if len(page.Events) == n {
				return page.Events
			}
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("session %s: %d %s, want %d events", session, resp.StatusCode, b, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestDaemonEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, bin, dir)

	// Every accepted shape, with a real client.
	single := d.post("application/json", `{"session_id":"e2e-a","type":"single","data":{"k": "v"},"meta":{"m":"1"}}`, 200, 1)
	seedEvent := `{"type": "seed", "user_session_id": "e2e-a", "nested": {"list": [1, 2.0, "three"], "null": null}}`
	seed := d.post("application/json", `{"event": `+seedEvent+`, "metadata": {"agent": "x", "n": 3}, "timestamp": 1767323045.25}`, 200, 1)
	d.post("application/json", `[{"session_id":"e2e-b","data":1},{"event":{"session_id":"e2e-b","type":"arr"},"metadata":{}}]`, 200, 2)
	var nd strings.Builder
	for i := range 250 {
		fmt.Fprintf(&nd, `{"session_id":"e2e-c","type":"nd","data":{"i":%d}}`+"\n", i)
	}
	d.post("application/x-ndjson", nd.String(), 200, 250)

	// Read back through the query API.
	a := d.events("e2e-a", 2)
	if str(a[0]["id"]) != single.IDs[0] || string(a[0]["data"]) != `{"k": "v"}` || str(a[0]["type"]) != "single" {
		t.Errorf("single: %v", a[0])
	}
	if str(a[1]["id"]) != seed.IDs[0] || string(a[1]["data"]) != seedEvent || str(a[1]["time"]) != "2026-01-02T03:04:05.25Z" {
		t.Errorf("seed: %v", a[1])
	}
	d.events("e2e-b", 2)
	c := d.events("e2e-c", 250)
	if string(c[249]["data"]) != `{"i":249}` {
		t.Errorf("ndjson order: last is %s", c[249]["data"])
	}
	resp := d.request("GET", "/v1/sessions", e2eReadToken, "", nil, nil)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, id := range []string{`"id":"e2e-a"`, `"id":"e2e-b"`, `"id":"e2e-c"`, `"count":250`} {
		if !strings.Contains(string(b), id) {
			t.Errorf("sessions lack %s: %s", id, b)
		}
	}

	// The session file holds the seed payload's event byte for byte.
	files, _ := filepath.Glob(filepath.Join(dir, "e2e-a", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("session files: %v", files)
	}
	raw, _ := os.ReadFile(files[0])
	if !bytes.Contains(raw, []byte(`"event":`+seedEvent+`,`)) {
		t.Errorf("the session file lacks the seed event's exact bytes:\n%s", raw)
	}

	// The SSE stream replays and then follows.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", d.base+"/v1/sessions/e2e-a/stream?after_seq=0", nil)
	req.Header.Set("Authorization", "Bearer "+e2eReadToken)
	sresp, err := d.client.Do(req)
	if err != nil || sresp.StatusCode != 200 {
		t.Fatalf("stream: %v %v", err, sresp)
	}
	defer sresp.Body.Close()
	events := make(chan string, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(sresp.Body)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- v
			}
		}
	}()
	nextData := func() string {
		select {
		case v, ok := <-events:
			if !ok {
				t.Fatal("the stream ended")
			}
			return v
		case <-time.After(20 * time.Second):
			t.Fatal("no event on the stream")
		}
		return ""
	}
	if v := nextData(); !strings.Contains(v, single.IDs[0]) {
		t.Errorf("stream 1: %s", v)
	}
	if v := nextData(); !strings.Contains(v, seed.IDs[0]) || !strings.Contains(v, seedEvent) {
		t.Errorf("stream 2: %s", v)
	}
	live := d.post("application/json", `{"session_id":"e2e-a","type":"live","data":"now"}`, 200, 1)
	if v := nextData(); !strings.Contains(v, live.IDs[0]) {
		t.Errorf("stream live: %s", v)
	}

	// The command-line readers work on the directory while the daemon runs.
	out := runCLI(t, bin, nil, 0, "events", "e2e-a", "--dir", dir, "-o", "ndjson", "--type", "live")
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, live.IDs[0]) {
		t.Errorf("eventgate events: %q", out)
	}
	out = runCLI(t, bin, nil, 0, "sessions", "--server", d.base, "--token", e2eReadToken)
	if !strings.Contains(out, "e2e-c") || !strings.Contains(out, "250") {
		t.Errorf("eventgate sessions --server: %q", out)
	}
	out = runCLI(t, bin, strings.NewReader(`{"session_id":"e2e-d","data":1}`+"\n"+`{"session_id":"../x","data":2}`+"\n"), 1,
		"send", "--server", d.base, "--token", e2eToken)
	if !strings.Contains(out, "stdin:2") || !strings.Contains(out, "sent 1 events, 1 refused") {
		t.Errorf("eventgate send: %q", out)
	}
	out = runCLI(t, bin, nil, 0, "tail", "-n", "1", "e2e-a", "--server", d.base, "--token", e2eReadToken, "-o", "ndjson")
	if !strings.Contains(out, live.IDs[0]) || strings.Count(out, "\n") != 1 {
		t.Errorf("eventgate tail: %q", out)
	}

	// SIGTERM with a stream open: exit 0 within the drain deadline.
	start := time.Now()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-d.exited:
		if d.err != nil {
			t.Fatalf("exit: %v\n%s", d.err, d.stderr.String())
		}
	case <-time.After(5*time.Second + 5*time.Second):
		t.Fatalf("the daemon did not exit within its 5s drain deadline\n%s", d.stderr.String())
	}
	t.Logf("exited 0 %v after SIGTERM", time.Since(start).Round(time.Millisecond))
	for range events {
	}

	// After the daemon: the local commands open the directory.
	out = runCLI(t, bin, strings.NewReader(`{"type":"bare","user_session_id":"e2e-e","text":"hi"}`+"\n"+
		`{"event":{"user_session_id":"e2e-e"},"metadata":{"k":"v"}}`+"\n"+`not json`+"\n"), 1, "log", "--dir", dir, "-v")
	if !strings.Contains(out, "logged 2 events, 1 refused") || !strings.Contains(out, "stdin:3") {
		t.Errorf("eventgate log: %q", out)
	}
	out = runCLI(t, bin, nil, 0, "events", "e2e-e", "--dir", dir, "-o", "ndjson")
	if !strings.Contains(out, `"data":{"type":"bare","user_session_id":"e2e-e","text":"hi"}`) || !strings.Contains(out, `"meta":{"k":"v"}`) {
		t.Errorf("events after log: %q", out)
	}
}

func TestServeRefusesUnsafeAuth(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	out := runCLIEnv(t, bin, []string{"EVENTGATE_TOKENS="}, nil, 2, "serve", "--dir", dir, "--insecure-no-auth", "--listen", "0.0.0.0:0")
	if !strings.Contains(out, "not a loopback address") {
		t.Errorf("%q", out)
	}
	out = runCLIEnv(t, bin, []string{"EVENTGATE_TOKENS="}, nil, 2, "serve", "--dir", dir, "--listen", "127.0.0.1:0")
	if !strings.Contains(out, "no tokens configured") {
		t.Errorf("%q", out)
	}
	out = runCLIEnv(t, bin, nil, nil, 0, "version")
	if !strings.HasPrefix(out, "eventgate ") {
		t.Errorf("%q", out)
	}
}

func TestCheckCommand(t *testing.T) {
	bin := buildBinary(t)
	cfg := filepath.Join(t.TempDir(), "eventgate.yaml")
	body := "dir: " + t.TempDir() + "\ntransports:\n  - {name: sink, url: 'null://'}\n  - {name: dead, url: 'redis://127.0.0.1:1/0'}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out := runCLI(t, bin, nil, 1, "check", "-c", cfg, "--timeout", "2s")
	if !strings.Contains(out, "ok     sink") || !strings.Contains(out, "error  dead") || !strings.Contains(out, "1 transport(s) failed") {
		t.Errorf("%q", out)
	}
	if err := os.WriteFile(cfg, []byte("transports:\n  - {name: a, url: 'gopher://x'}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = runCLI(t, bin, nil, 2, "check", "-c", cfg)
	if !strings.Contains(out, "not supported") {
		t.Errorf("%q", out)
	}
}

func runCLI(t *testing.T, bin string, stdin io.Reader, wantCode int, args ...string) string {
	t.Helper()
	return runCLIEnv(t, bin, nil, stdin, wantCode, args...)
}

func runCLIEnv(t *testing.T, bin string, env []string, stdin io.Reader, wantCode int, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(append(os.Environ(), "EVENTGATE_CONFIG=", "EVENTGATE_DIR=", "AGENT_LOG_DIR="), env...)
	cmd.Stdin = stdin
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	if code != wantCode {
		t.Fatalf("eventgate %s: exit %d, want %d\n%s", strings.Join(args, " "), code, wantCode, out)
	}
	return string(out)
}

func str(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}
