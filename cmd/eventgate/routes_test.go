package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// A route taken out of the configuration shows as detached, and forgetting
// it removes it; a configured route cannot be forgotten.
func TestRoutesListAndForget(t *testing.T) {
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	writeCfg := func(body string) string {
		p := filepath.Join(t.TempDir(), "eventgate.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	both := writeCfg("transports:\n  - {name: keep, url: \"null://\"}\n  - {name: gone, url: \"null://\"}\n")
	one := writeCfg("transports:\n  - {name: keep, url: \"null://\"}\n")

	// Both routes deliver something, so both have a saved position.
	d := startDaemon(t, bin, dir, "-c", both)
	runCLI(t, bin, strings.NewReader(`{"session_id":"r","data":1}`+"\n"+`{"session_id":"r","data":2}`+"\n"), 0,
		"send", "--server", d.base, "--token", e2eToken)
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.exited
	if d.err != nil {
		t.Fatalf("exit: %v\n%s", d.err, d.stderr.String())
	}

	out := runCLI(t, bin, nil, 0, "routes", "list", "-c", one, "--dir", dir)
	if !strings.Contains(out, "keep") || !strings.Contains(out, "gone") || !strings.Contains(out, "detached") {
		t.Fatalf("routes list: %q", out)
	}
	out = runCLI(t, bin, nil, 1, "routes", "forget", "keep", "-c", one, "--dir", dir)
	if !strings.Contains(out, "configured") {
		t.Errorf("forgetting a configured route: %q", out)
	}
	out = runCLI(t, bin, nil, 0, "routes", "forget", "gone", "-c", one, "--dir", dir)
	if !strings.Contains(out, "forgot route gone") {
		t.Errorf("routes forget: %q", out)
	}
	out = runCLI(t, bin, nil, 0, "routes", "list", "-c", one, "--dir", dir)
	if strings.Contains(out, "gone") {
		t.Errorf("the forgotten route is still listed: %q", out)
	}
	runCLI(t, bin, nil, 1, "routes", "forget", "gone", "-c", one, "--dir", dir)
}
