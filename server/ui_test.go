package server

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestWhoamiTellsScopes(t *testing.T) {
	e := newEnv(t, Options{})
	for _, c := range []struct {
		token string
		code  int
		want  string
	}{
		{"", 401, ""},
		{"not-a-token-0123456789", 401, ""},
		{ingestToken, 200, "ingest"},
		{readToken, 200, "read"},
		{adminToken, 200, "admin ingest read"},
	} {
		code, b, h := e.do("GET", "/v1/whoami", c.token, "", nil)
		if code != c.code {
			t.Errorf("token %q: %d %s, want %d", c.token, code, b, c.code)
			continue
		}
		if code == 401 {
			if h.Get("WWW-Authenticate") == "" {
				t.Errorf("token %q: 401 without WWW-Authenticate", c.token)
			}
			continue
		}
		var w Whoami
		if err := json.Unmarshal(b, &w); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(w.Scopes, " "); !w.Auth || got != c.want {
			t.Errorf("token %q: %+v, want scopes %q", c.token, w, c.want)
		}
	}
}

func TestWhoamiWithoutAuth(t *testing.T) {
	e := newEnv(t, Options{NoAuth: true})
	code, b, _ := e.do("GET", "/v1/whoami", "", "", nil)
	if code != 200 || !strings.Contains(string(b), `"auth":false`) || !strings.Contains(string(b), `"admin"`) {
		t.Errorf("whoami without auth: %d %s", code, b)
	}
}

func TestUIIsServed(t *testing.T) {
	e := newEnv(t, Options{})
	code, b, h := e.do("GET", "/ui/", "", "", nil)
	if code != 200 || !strings.Contains(string(b), `<div id="app">`) {
		t.Fatalf("/ui/: %d %s", code, b)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("/ui/ without CSP: %v", h)
	}
	if code, _, _ := e.do("GET", "/ui/app.js", "", "", nil); code != 200 {
		t.Errorf("/ui/app.js: %d", code)
	}
	e.client.CheckRedirect = nil
	if code, b, _ := e.do("GET", "/ui", "", "", nil); code != 200 || !strings.Contains(string(b), `<div id="app">`) {
		t.Errorf("/ui: %d", code)
	}
}
