package ui

import (
	"bytes"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestHandlerServesAssets(t *testing.T) {
	h := Handler()
	for _, c := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/ui/", "text/html", `<div id="app">`, 200},
		{"/ui/index.html", "text/html", `<div id="app">`, 200},
		{"/ui/app.js", "javascript", "", 200},
		{"/ui/style.css", "text/css", "", 200},
		{"/ui/nope.js", "", "", 404},
		{"/ui/../server.go", "", "", 404},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		if rec.Code != c.code {
			t.Errorf("%s: %d, want %d", c.path, rec.Code, c.code)
			continue
		}
		if c.code != 200 {
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.Contains(ct, c.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, ct, c.ctype)
		}
		if !strings.Contains(rec.Body.String(), c.contains) {
			t.Errorf("%s: body lacks %q", c.path, c.contains)
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("%s: CSP %q", c.path, csp)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/ui/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}
}

// TestNoRemoteAssets checks that the page loads nothing from another origin.
func TestNoRemoteAssets(t *testing.T) {
	err := fs.WalkDir(Assets(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Assets(), p)
		if err != nil {
			return err
		}
		for _, bad := range []string{`src="http`, `href="http`, `src="//`, `href="//`, "@import url(http"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s refers to a remote asset (%s)", p, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDistIsBuiltFromSource rebuilds the assets when node and the npm
// packages are present, and fails when the committed dist differs: run
// `make ui` after changing web/ui/src.
func TestDistIsBuiltFromSource(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node is not installed")
	}
	if _, err := os.Stat("node_modules/esbuild"); err != nil {
		t.Skip("npm packages not installed (npm ci in web/ui)")
	}
	out := t.TempDir()
	cmd := exec.Command("node", "build.mjs", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		want, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := Assets().Open(filepath.ToSlash(rel))
		if err != nil {
			t.Errorf("dist lacks %s: run make ui", rel)
			return nil
		}
		defer f.Close()
		got, err := io.ReadAll(f)
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			t.Errorf("dist/%s is not built from the current source: run make ui", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
