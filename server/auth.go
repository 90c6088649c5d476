package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Scope is a permission a token grants.
type Scope string

// The scopes. A token with ScopeAdmin may do everything.
const (
	// ScopeIngest allows POST /v1/events.
	ScopeIngest Scope = "ingest"
	// ScopeRead allows listing sessions, reading and streaming events,
	// route stats and, unless PublicMetrics, /metrics.
	ScopeRead Scope = "read"
	// ScopeAdmin allows deleting sessions, reading dead letters and
	// redriving them, and implies the other scopes.
	ScopeAdmin Scope = "admin"
)

// ParseScope returns the Scope named s.
func ParseScope(s string) (Scope, error) {
	switch Scope(strings.ToLower(strings.TrimSpace(s))) {
	case ScopeIngest:
		return ScopeIngest, nil
	case ScopeRead:
		return ScopeRead, nil
	case ScopeAdmin:
		return ScopeAdmin, nil
	}
	return "", fmt.Errorf("unknown scope %q (want ingest, read or admin)", s)
}

// Token is one accepted bearer token. Only its SHA-256 digest is kept.
type Token struct {
	// Name identifies the token in logs; never the secret.
	Name   string
	digest [sha256.Size]byte
	scopes map[Scope]bool
}

// NewToken returns a Token for secret with the given scopes. The secret must
// be at least 16 bytes and free of spaces and control characters.
func NewToken(name, secret string, scopes ...Scope) (Token, error) {
	if len(secret) < 16 {
		return Token{}, fmt.Errorf("token %q: secret is %d bytes, at least 16 are required", name, len(secret))
	}
	for _, c := range []byte(secret) {
		if c <= ' ' || c == 0x7f {
			return Token{}, fmt.Errorf("token %q: secret holds a space or control character", name)
		}
	}
	if len(scopes) == 0 {
		return Token{}, fmt.Errorf("token %q: no scopes", name)
	}
	t := Token{Name: name, digest: sha256.Sum256([]byte(secret)), scopes: make(map[Scope]bool)}
	for _, s := range scopes {
		if _, err := ParseScope(string(s)); err != nil {
			return Token{}, fmt.Errorf("token %q: %w", name, err)
		}
		t.scopes[s] = true
	}
	return t, nil
}

// Allows reports whether t grants s.
func (t Token) Allows(s Scope) bool { return t.scopes[ScopeAdmin] || t.scopes[s] }

var (
	errNoToken      = errors.New("a bearer token is required")
	errUnknownToken = errors.New("the bearer token is not valid")
)

// authenticate finds the token presented by r. It compares the SHA-256 digest
// of the presented secret with every configured digest in constant time,
// without stopping at a match, so neither the secret nor which token matched
// shows in the timing.
func (s *Server) authenticate(r *http.Request) (*Token, error) {
	h := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, errNoToken
	}
	d := sha256.Sum256([]byte(strings.TrimSpace(secret)))
	found := -1
	for i := range s.opts.Tokens {
		if subtle.ConstantTimeCompare(d[:], s.opts.Tokens[i].digest[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return nil, errUnknownToken
	}
	return &s.opts.Tokens[found], nil
}

// require wraps h so that it runs only for a request whose token grants
// scope: 401 (with WWW-Authenticate) without a token or with an unknown
// one, 403 when the token lacks the scope.
func (s *Server) require(scope Scope, h http.HandlerFunc) http.HandlerFunc {
	if s.opts.NoAuth {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authenticate(r)
		if err != nil {
			code := "invalid_token"
			if errors.Is(err, errNoToken) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="eventgate"`)
			} else {
				w.Header().Set("WWW-Authenticate", `Bearer realm="eventgate", error="`+code+`"`)
			}
			s.metrics.authFailures.WithLabelValues("unauthenticated").Inc()
			writeError(w, http.StatusUnauthorized, err.Error())
			return
		}
		if !tok.Allows(scope) {
			s.metrics.authFailures.WithLabelValues("forbidden").Inc()
			writeError(w, http.StatusForbidden, fmt.Sprintf("token %q lacks the %s scope", tok.Name, scope))
			return
		}
		h(w, r)
	}
}
