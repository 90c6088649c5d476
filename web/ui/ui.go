// Package ui is the web UI that eventgate serve offers at /ui/: the built
// assets of web/ui/src (TypeScript, built by `make ui`), embedded in the
// binary, so the page needs no network beyond the server itself.
package ui

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed dist
var dist embed.FS

// Prefix is the path the UI is served under.
const Prefix = "/ui/"

// contentSecurityPolicy allows only the server's own scripts, styles and API.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Assets returns the built files (index.html, app.js, style.css).
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("ui: embedded dist missing: " + err.Error()) // cannot happen: embed checked it at build time
	}
	return sub
}

// Handler serves the UI for requests under Prefix: the files of Assets, and
// index.html for Prefix itself. Answers carry a Content-Security-Policy that
// allows nothing but the server's own origin, and are not cached without
// revalidation. Other methods than GET and HEAD get 405.
func Handler() http.Handler {
	files := http.FileServerFS(Assets())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cache-Control", "no-cache")
		name := path.Clean("/" + rest)
		if name == "/" || name == "/index.html" {
			// Served by hand: the file server would redirect /index.html to ./
			b, err := fs.ReadFile(Assets(), "index.html")
			if err != nil {
				http.Error(w, "ui: index.html missing", http.StatusInternalServerError)
				return
			}
			h.Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write(b)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = name
		r2.URL.RawPath = ""
		files.ServeHTTP(w, r2)
	})
}
