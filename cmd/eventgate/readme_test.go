package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/eventgate/eventgate/internal/testutil"
)

// The documents whose shell blocks TestDocBlocks runs, each in its own fresh
// copy of the repository, in this order.
var runnableDocs = []string{"README.md", "docs/QUICKSTART.md"}

// The convention for runnable blocks, which the documents follow:
//
//   - A fenced block opened by ```sh is runnable. Any other fence (```go,
//     ```json, a bare ```) is text.
//   - An HTML comment line `<!-- norun: why -->` directly above the fence
//     (blank lines between are allowed) makes it text too: commands that run
//     the whole test suite, or that follow a stream until Ctrl-C.
//   - `<!-- needs: redis -->` above the fence says the block needs that
//     service; when it is unreachable the whole document is skipped (or,
//     with EVENTGATE_REQUIRE_SERVICES=1, fails), since later blocks build on
//     earlier ones.
//
// The blocks of one document run in order in one bash with `set -e -o
// pipefail`, so a variable one block exports is seen by the next; curl runs
// with --fail-with-body, so a 4xx or 5xx answer fails the block. The
// documents' address 127.0.0.1:8080 is replaced by a free port (and
// EVENTGATE_LISTEN names it, for `serve` without --listen). After a block
// that starts `eventgate serve` in the background the script waits for
// /readyz. Every process the script started is killed at the end.

const (
	docsAddr    = "127.0.0.1:8080"
	docsRedis   = "127.0.0.1:6379"
	docsTimeout = 8 * time.Minute // a bound for a hung command; the blocks themselves wait on conditions
)

// docBlock is one fenced shell block of a document.
type docBlock struct {
	file  string
	line  int // line number of the block's first command
	lines []string
	norun bool
	needs []string
}

// parseDocBlocks returns the ```sh blocks of a Markdown document.
func parseDocBlocks(file, text string) ([]docBlock, error) {
	var blocks []docBlock
	var cur *docBlock
	var notes []string // the comment lines seen since the last text line
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	fenced := false // inside a block that is not ```sh
	for sc.Scan() {
		n++
		line := sc.Text()
		trim := strings.TrimSpace(line)
		switch {
		case cur != nil:
			if trim == "```" {
				blocks = append(blocks, *cur)
				cur = nil
				continue
			}
			cur.lines = append(cur.lines, line)
		case fenced:
			if trim == "```" {
				fenced = false
			}
		case trim == "```sh":
			cur = &docBlock{file: file, line: n + 1}
			for _, c := range notes {
				switch {
				case strings.HasPrefix(c, "norun"):
					cur.norun = true
				case strings.HasPrefix(c, "needs:"):
					for _, s := range strings.Split(strings.TrimPrefix(c, "needs:"), ",") {
						if s = strings.TrimSpace(s); s != "" {
							cur.needs = append(cur.needs, s)
						}
					}
				}
			}
			notes = nil
		case strings.HasPrefix(trim, "```"):
			fenced = true
			notes = nil
		case strings.HasPrefix(trim, "<!--") && strings.HasSuffix(trim, "-->"):
			notes = append(notes, strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(trim, "<!--"), "-->")))
		case trim == "":
		default:
			notes = nil
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur != nil {
		return nil, fmt.Errorf("%s:%d: the ```sh block is not closed", file, cur.line-1)
	}
	return blocks, nil
}

func TestParseDocBlocks(t *testing.T) {
	doc := "# T\n\n```sh\necho one\necho two\n```\n\n<!-- norun: runs forever -->\n\n```sh\nsleep 1000\n```\n" +
		"<!-- needs: redis -->\n```sh\nredis-cli ping\n```\n<!-- norun -->\ntext\n```sh\necho three\n```\n```go\nx := 1\n```\n"
	blocks, err := parseDocBlocks("T.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 4 {
		t.Fatalf("%d blocks, want 4: %+v", len(blocks), blocks)
	}
	want := []struct {
		line  int
		norun bool
		needs string
		first string
	}{{4, false, "", "echo one"}, {11, true, "", "sleep 1000"}, {15, false, "redis", "redis-cli ping"}, {20, false, "", "echo three"}}
	for i, w := range want {
		b := blocks[i]
		if b.line != w.line || b.norun != w.norun || strings.Join(b.needs, ",") != w.needs || b.lines[0] != w.first {
			t.Errorf("block %d: %+v, want %+v", i, b, w)
		}
	}
	if _, err := parseDocBlocks("U.md", "```sh\necho\n"); err == nil {
		t.Error("an unclosed block was accepted")
	}
}

// TestDocBlocks runs every runnable shell block of the documents, in order,
// as a new user pasting them into one shell in a fresh clone would, and
// fails naming the block and the command that failed.
func TestDocBlocks(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command and runs the documents' walk-throughs")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range runnableDocs {
		t.Run(doc, func(t *testing.T) { runDoc(t, root, doc) })
	}
}

func runDoc(t *testing.T, root, doc string) {
	text, err := os.ReadFile(filepath.Join(root, doc))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := parseDocBlocks(doc, string(text))
	if err != nil {
		t.Fatal(err)
	}
	redis := docsRedis
	for _, b := range blocks {
		for _, s := range b.needs {
			switch s {
			case "redis":
				if !b.norun {
					redis = testutil.Service(t, "Redis", "EVENTGATE_REDIS_ADDR", docsRedis)
				}
			default:
				t.Fatalf("%s:%d: unknown service %q in a needs: comment", doc, b.line-1, s)
			}
		}
	}
	work := t.TempDir()
	copyRepo(t, root, work)
	limit := docsTimeout
	if d, ok := t.Deadline(); ok {
		limit = min(limit, time.Until(d)-30*time.Second) // fail with the command's name before go test panics
	}
	if err := runDocBlocks(t, work, doc, blocks, redis, limit); err != nil {
		t.Fatal(err)
	}
}

// runDocBlocks runs the runnable blocks in one bash in dir, and returns an
// error naming the document line and the command that failed (or still ran
// after limit), with the script's output.
func runDocBlocks(t *testing.T, dir, doc string, blocks []docBlock, redis string, limit time.Duration) error {
	addr := freePort(t)

	// The script: a prelude, then each block, with a line map back to the
	// document.
	trace := filepath.Join(t.TempDir(), "trace")
	var sb strings.Builder
	type origin struct {
		block int
		line  int
	}
	var lines []origin // lines[i] is where script line i+1 came from; block -1 is the prelude
	emit := func(o origin, s string) {
		sb.WriteString(s)
		sb.WriteByte('\n')
		lines = append(lines, o)
	}
	prelude := []string{
		"set -e -o pipefail",
		"exec 3>" + strconv.Quote(trace),
		`__eventgate_exit() { local rc=$?; trap - DEBUG; kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; exit $rc; }`,
		"trap __eventgate_exit EXIT",
		// curl fails on 4xx and 5xx, unless the document asks for --fail itself.
		`curl() { local a; for a in "$@"; do case $a in --fail*|-[!-]*f*) command curl "$@"; return; esac; done; ` +
			`command curl --fail-with-body --silent --show-error "$@"; }`,
		`__eventgate_ready() { local i pid=$!; for i in $(seq 1200); do command curl -sf "$1/readyz" >/dev/null 2>&1 && return 0; ` +
			`kill -0 "$pid" 2>/dev/null || { echo "eventgate serve exited" >&2; return 1; }; sleep 0.1; done; echo "$1 not ready" >&2; return 1; }`,
		`trap 'printf "%s\t%s\n" "$LINENO" "$BASH_COMMAND" >&3' DEBUG`,
	}
	for _, l := range prelude {
		emit(origin{-1, 0}, l)
	}
	run := 0
	for i, b := range blocks {
		if b.norun {
			continue
		}
		run++
		for j, l := range b.lines {
			l = strings.ReplaceAll(l, docsAddr, addr)
			l = strings.ReplaceAll(l, docsRedis, redis)
			emit(origin{i, b.line + j}, l)
		}
		body := strings.Join(b.lines, "\n")
		if strings.Contains(body, "eventgate serve") && strings.Contains(body, "&") {
			emit(origin{i, b.line + len(b.lines) - 1}, "__eventgate_ready http://"+addr)
		}
	}
	if run == 0 {
		return fmt.Errorf("%s has no runnable ```sh block", doc)
	}
	script := filepath.Join(t.TempDir(), "doc.sh")
	if err := os.WriteFile(script, []byte(sb.String()), 0o600); err != nil {
		return err
	}
	out, err := os.Create(filepath.Join(t.TempDir(), "output"))
	if err != nil {
		return err
	}
	defer out.Close()

	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.Command("bash", script)
	cmd.Dir = dir
	cmd.Env = docEnv(addr)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = out, out // files: Wait does not wait for a background daemon's output
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	pgid := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var runErr error
	timedOut := false
	select {
	case runErr = <-exited:
	case <-ctx.Done():
		timedOut = true
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		runErr = <-exited
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL) // whatever the script left running
	t.Logf("%s: %d blocks run in %s", doc, run, time.Since(start).Round(time.Millisecond))
	if runErr == nil && !timedOut {
		return nil
	}

	// Name the block and the command: the last one the DEBUG trap saw.
	where, what := "before the first block", ""
	if tb, err := os.ReadFile(trace); err == nil {
		tl := strings.Split(strings.TrimRight(string(tb), "\n"), "\n")
		for k := len(tl) - 1; k >= 0; k-- {
			num, cmdText, ok := strings.Cut(tl[k], "\t")
			n, err := strconv.Atoi(num)
			if !ok || err != nil || n < 1 || n > len(lines) || strings.HasPrefix(cmdText, "__eventgate_exit") {
				continue
			}
			o := lines[n-1]
			if o.block < 0 {
				continue
			}
			b := blocks[o.block]
			where = fmt.Sprintf("%s:%d (the block at line %d)", doc, o.line, b.line-1)
			what = cmdText
			break
		}
	}
	output, _ := os.ReadFile(out.Name())
	if len(output) > 16<<10 {
		output = append([]byte("…"), output[len(output)-16<<10:]...)
	}
	var ee *exec.ExitError
	status := runErr.Error()
	if errors.As(runErr, &ee) {
		status = "exit status " + strconv.Itoa(ee.ExitCode())
	}
	if timedOut {
		status = "still running after " + limit.Round(time.Second).String()
	}
	return fmt.Errorf("%s: %q: %s\n(127.0.0.1:8080 reads %s here)\noutput:\n%s", where, what, status, addr, output)
}

// TestDocBlockFailures checks that a failing command, and a curl answered
// with a 4xx, fail the run, named by document line and command.
func TestDocBlockFailures(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("bash is not installed")
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ok" {
			http.Error(w, `{"error":"no such thing"}`, http.StatusNotFound)
		}
	}))
	defer srv.Close()
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"a command fails", "# T\n\n```sh\nX=1\necho $X\n```\n\n```sh\ntrue\nfalse\necho never\n```\n",
			[]string{"T.md:10 (the block at line 8)", `"false"`, "exit status 1"}},
		{"a curl is answered 404", "```sh\ncurl " + srv.URL + "/ok\ncurl " + srv.URL + "/nosuch\n```\n",
			[]string{"T.md:3 (the block at line 1)", "/nosuch", "exit status 22", "no such thing"}},
		{"norun blocks are not run", "<!-- norun: would fail -->\n```sh\nfalse\n```\n```sh\ntrue\n```\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			blocks, err := parseDocBlocks("T.md", tc.doc)
			if err != nil {
				t.Fatal(err)
			}
			err = runDocBlocks(t, t.TempDir(), "T.md", blocks, docsRedis, time.Minute)
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("the run succeeded")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("the error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// docEnv is the environment of the documents' shell: this process's, less
// eventgate's own variables, with the listen address set.
func docEnv(addr string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "EVENTGATE_") || k == "AGENT_LOG_DIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "EVENTGATE_LISTEN="+addr)
}

// copyRepo copies the repository's files (tracked, and new ones git does not
// ignore) into dst: a fresh clone of the working tree.
func copyRepo(t *testing.T, root, dst string) {
	t.Helper()
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("listing the repository's files with git: %v", err)
	}
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		if rel == "" {
			continue
		}
		src := filepath.Join(root, rel)
		fi, err := os.Lstat(src)
		if errors.Is(err, os.ErrNotExist) {
			continue // deleted in the working tree
		}
		if err != nil {
			t.Fatal(err)
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}
