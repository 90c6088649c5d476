package main

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "eventgate test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	_ = os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_ = os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestServeTLS(t *testing.T) {
	bin := buildBinary(t)
	certFile, keyFile, pool := writeCert(t)
	addr := freePort(t)
	cmd := exec.Command(bin, "serve", "--dir", t.TempDir(), "--listen", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	cmd.Env = append(os.Environ(), "EVENTGATE_TOKENS="+e2eToken+":ingest", "EVENTGATE_CONFIG=")
	out := &syncBuffer{}
	cmd.Stderr = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		if err := <-done; err != nil {
			t.Errorf("exit: %v\n%s", err, out.String())
		}
	}()
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("POST", "https://"+addr+"/v1/events", strings.NewReader(`{"session_id":"tls","data":1}`))
		req.Header.Set("Authorization", "Bearer "+e2eToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.TLS == nil {
				t.Fatalf("%d %v", resp.StatusCode, resp.TLS)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Plain HTTP to the TLS port gets no answer it could use.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + addr + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP was served on the TLS port")
		}
	}
}

func TestTailFollowReplayAndDeadLetters(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	// A route whose endpoint refuses connections, giving up after 50ms.
	cfg := filepath.Join(t.TempDir(), "eventgate.yaml")
	body := "transports:\n  - name: gone\n    url: http://127.0.0.1:1/v1/events\n" +
		"    route: {retry: {initial: 10ms, max: 20ms, max_elapsed: 50ms}}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, bin, dir, "-c", cfg)

	// tail -f through the server's stream.
	tail := exec.Command(bin, "tail", "-f", "-n", "0", "follow-me", "--server", d.base, "--token", e2eReadToken, "-o", "ndjson")
	tail.Env = append(os.Environ(), "EVENTGATE_CONFIG=")
	stdout, _ := tail.StdoutPipe()
	tail.Stderr = &syncBuffer{}
	if err := tail.Start(); err != nil {
		t.Fatal(err)
	}
	tailDone := make(chan error, 1)
	t.Cleanup(func() { _ = tail.Process.Kill() }) // harmless once it has exited
	lines := make(chan string, 10)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		tailDone <- tail.Wait()
	}()
	// The stream may open after the first post; keep posting until tail
	// prints one.
	var got string
	deadline := time.Now().Add(30 * time.Second)
	for got == "" {
		d.post("application/json", `{"session_id":"follow-me","type":"ping","data":{"n":1}}`, 200, 1)
		select {
		case got = <-lines:
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("tail -f printed nothing: %s", tail.Stderr.(*syncBuffer).String())
		}
	}
	if !strings.Contains(got, `"type":"ping"`) || !strings.Contains(got, `"data":{"n":1}`) {
		t.Errorf("tail -f: %q", got)
	}
	_ = tail.Process.Signal(syscall.SIGINT)
	for range lines {
	}
	if err := <-tailDone; err != nil {
		t.Errorf("tail -f exit: %v", err)
	}

	// The route gives up on the events: they are dead letters.
	var dls struct {
		DeadLetters []json.RawMessage `json:"dead_letters"`
	}
	deadline = time.Now().Add(30 * time.Second)
	for len(dls.DeadLetters) == 0 {
		resp := d.request("GET", "/v1/routes/gone/dead-letters", e2eReadToken, "", nil, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_ = json.Unmarshal(b, &dls)
		if time.Now().After(deadline) {
			t.Fatalf("no dead letters: %s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	out := runCLI(t, bin, nil, 0, "dlq", "list", "gone", "--server", d.base, "--token", e2eReadToken)
	if !strings.Contains(out, "dead letters") || !strings.Contains(out, "connection") {
		t.Errorf("dlq list: %q", out)
	}
	out = runCLI(t, bin, nil, 1, "dlq", "redrive", "gone", "--server", d.base, "--token", e2eReadToken)
	if !strings.Contains(out, "delivered 0, failed again") {
		t.Errorf("dlq redrive: %q", out)
	}

	// replay the session, from the files, to a file transport.
	target := filepath.Join(t.TempDir(), "replayed.jsonl")
	out = runCLI(t, bin, nil, 0, "replay", "--dir", dir, "--session", "follow-me", "--to", "file://"+target)
	if !strings.Contains(out, "replayed") {
		t.Errorf("replay: %q", out)
	}
	b, _ := os.ReadFile(target)
	n := strings.Count(string(b), "\n")
	if n == 0 || !strings.Contains(string(b), `"session_id":"follow-me"`) {
		t.Errorf("replayed file (%d lines): %s", n, b)
	}
	out = runCLI(t, bin, nil, 2, "replay", "--dir", dir, "--to", "gopher://x")
	if !strings.Contains(out, "not supported") {
		t.Errorf("replay to a bad url: %q", out)
	}

	// With the daemon stopped, the local dlq works from the configuration.
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.exited
	if d.err != nil {
		t.Fatalf("exit: %v\n%s", d.err, d.stderr.String())
	}
	out = runCLI(t, bin, nil, 0, "dlq", "list", "gone", "-c", cfg, "--dir", dir, "--json")
	if strings.Count(out, `"error"`) < 1 {
		t.Errorf("local dlq list: %q", out)
	}
}
