package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Issue 12, scenario 5 at the command line: `eventgate events` prints every
// good event and exits 1 naming the count of damaged lines, from the files
// and through a server; `tail -f` tells the damage and goes on following.
// Scenario 2: a second daemon refuses the directory after LOCK is deleted.
func TestCommandsReportDamagedLines(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and starts a daemon")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	d := startDaemon(t, bin, dir)
	const total = 300
	var body strings.Builder
	for i := range total {
		fmt.Fprintf(&body, `{"session_id":"cli-dmg","type":"t","data":{"i":%d}}`+"\n", i)
	}
	resp := d.request("POST", "/v1/events", e2eToken, "application/x-ndjson", strings.NewReader(body.String()), nil)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("post: %d", resp.StatusCode)
	}
	d.events("cli-dmg", total)

	files, _ := filepath.Glob(filepath.Join(dir, "cli-dmg", "*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("session files %v", files)
	}
	b, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	orig := bytes.Clone(b)
	off := 0
	for range 150 {
		off += bytes.IndexByte(b[off:], '\n') + 1
	}
	b[off] = 'X'
	if err := os.WriteFile(files[0], b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"events", "cli-dmg", "--dir", dir, "-o", "ndjson"},
		{"events", "cli-dmg", "--server", d.base, "--token", e2eReadToken, "-o", "ndjson"},
	} {
		out := runCLI(t, bin, nil, 1, args...)
		lines := strings.Count(out, `"seq":`)
		if lines != total-1 || !strings.Contains(out, "1 damaged session-file line(s) skipped") {
			t.Fatalf("eventgate %s: %d events, want %d and the damage count:\n%.2000s", strings.Join(args[:2], " "), lines, total-1, out)
		}
	}

	// tail -f through the server: the damage is told, the events after it
	// and the live ones arrive.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "tail", "-f", "-n", "0", "cli-dmg", "--server", d.base, "--token", e2eReadToken, "-o", "ndjson")
	cmd.Env = append(os.Environ(), "EVENTGATE_CONFIG=", "EVENTGATE_DIR=", "AGENT_LOG_DIR=")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	live := d.request("POST", "/v1/events", e2eToken, "application/json", strings.NewReader(`{"session_id":"cli-dmg","type":"live","data":1}`), nil)
	live.Body.Close()
	if live.StatusCode/100 != 2 || live.StatusCode == 207 {
		t.Fatalf("live post: %d", live.StatusCode)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"type":"live"`) {
			break
		}
	}
	if !strings.Contains(stderr.String(), "damaged line") || strings.Contains(stderr.String(), "reconnecting") {
		t.Fatalf("tail -f stderr: %q, want the damage told and no reconnection", stderr.String())
	}

	// A second daemon on the same directory, LOCK deleted, refuses to start.
	_ = os.Remove(filepath.Join(dir, ".eventgate", "journal", "LOCK"))
	out := runCLIEnv(t, bin, []string{"EVENTGATE_TOKENS=" + e2eToken + ":ingest"}, nil, 1, "serve", "--dir", dir, "--listen", freePort(t))
	if !strings.Contains(out, "locked") {
		t.Fatalf("second daemon: %s", out)
	}

	// With the daemon stopped, the damaged file is rebuilt from the journal.
	_ = d.cmd.Process.Signal(syscall.SIGTERM)
	<-d.exited
	out = runCLI(t, bin, nil, 0, "rebuild-session", "cli-dmg", "--dir", dir)
	if !strings.Contains(out, "rebuilt") {
		t.Fatalf("rebuild-session: %s", out)
	}
	got, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:len(orig)], orig) {
		t.Fatalf("the rebuilt file differs from the file before the damage")
	}
	out = runCLI(t, bin, nil, 0, "events", "cli-dmg", "--dir", dir, "-o", "ndjson")
	if n := strings.Count(out, `"seq":`); n != total+1 {
		t.Fatalf("after the rebuild: %d events, want %d", n, total+1)
	}
	runCLI(t, bin, nil, 0, "rebuild-session", "cli-dmg", "--dir", dir) // nothing left to do
}
