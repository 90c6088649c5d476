package nats

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The placeholders a subject template may hold.
const (
	placeholderSession = "{session}"
	placeholderType    = "{type}"
)

// emptyToken is what EncodeToken returns for the empty string. A lone '%' is
// never produced for a non-empty input (every '%' it writes is followed by two
// hex digits), so the mapping stays reversible.
const emptyToken = "%"

const upperHex = "0123456789ABCDEF"

// mustEscape reports whether byte c cannot appear verbatim in a subject
// token: the token separator '.', the wildcards '*' and '>', the escape
// character '%' itself, space and every other ASCII control character.
func mustEscape(c byte) bool {
	switch c {
	case '.', '*', '>', '%', 0x7f:
		return true
	}
	return c <= 0x20
}

// EncodeToken turns s into a single NATS subject token, reversibly.
//
// Bytes that a token cannot hold ('.', '*', '>', whitespace and other ASCII
// control characters), the escape character '%' itself, and bytes that are not
// part of valid UTF-8 are written as '%' followed by two upper-case hex digits
// (so "a.b c" becomes "a%2Eb%20c"). Every other byte, including valid
// multi-byte UTF-8, is kept, so the usual ids (UUIDs, ULIDs, [A-Za-z0-9_-])
// come out unchanged. The empty string becomes "%". DecodeToken inverts it:
// distinct inputs always give distinct tokens.
func EncodeToken(s string) string {
	if s == "" {
		return emptyToken
	}
	clean := true
	for i := 0; i < len(s); i++ {
		if mustEscape(s[i]) || s[i] >= utf8.RuneSelf {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	return string(appendToken(make([]byte, 0, len(s)+8), s))
}

// appendToken appends EncodeToken(s) to dst.
func appendToken(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, emptyToken...)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if mustEscape(c) {
				dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, '%', upperHex[c>>4], upperHex[c&0xf])
			i++
			continue
		}
		dst = append(dst, s[i:i+size]...)
		i += size
	}
	return dst
}

// ErrBadToken is matched by every error DecodeToken returns.
var ErrBadToken = errors.New("nats: malformed subject token")

// DecodeToken returns the string EncodeToken turned into tok.
func DecodeToken(tok string) (string, error) {
	if tok == emptyToken {
		return "", nil
	}
	if tok == "" {
		return "", fmt.Errorf("%w: empty", ErrBadToken)
	}
	if !strings.Contains(tok, "%") {
		return tok, nil
	}
	var b strings.Builder
	b.Grow(len(tok))
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(tok) {
			return "", fmt.Errorf("%w: %q: truncated escape at byte %d", ErrBadToken, tok, i)
		}
		hi, ok1 := unhex(tok[i+1])
		lo, ok2 := unhex(tok[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("%w: %q: bad escape at byte %d", ErrBadToken, tok, i)
		}
		b.WriteByte(hi<<4 | lo)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// subjectTemplate is a parsed subject template: literal text alternating with
// placeholders.
type subjectTemplate struct {
	raw   string
	parts []templatePart
}

type templatePart struct {
	literal string
	ph      string // placeholderSession, placeholderType, or "" for a literal
}

// parseSubjectTemplate checks tmpl and splits it into parts. A template is a
// NATS subject whose tokens may contain {session} and {type}; it must not
// contain wildcards, whitespace or empty tokens, and it must mention
// {session} (so that each session's events share a subject and keep order).
func parseSubjectTemplate(tmpl string) (*subjectTemplate, error) {
	if tmpl == "" {
		return nil, errors.New("subject template is empty")
	}
	st := &subjectTemplate{raw: tmpl}
	rest := tmpl
	for rest != "" {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			st.parts = append(st.parts, templatePart{literal: rest})
			break
		}
		if i > 0 {
			st.parts = append(st.parts, templatePart{literal: rest[:i]})
		}
		switch {
		case strings.HasPrefix(rest[i:], placeholderSession):
			st.parts = append(st.parts, templatePart{ph: placeholderSession})
			rest = rest[i+len(placeholderSession):]
		case strings.HasPrefix(rest[i:], placeholderType):
			st.parts = append(st.parts, templatePart{ph: placeholderType})
			rest = rest[i+len(placeholderType):]
		default:
			return nil, fmt.Errorf("subject template %q: unknown placeholder at byte %d (want {session} or {type})", tmpl, len(tmpl)-len(rest)+i)
		}
	}
	hasSession := false
	for _, p := range st.parts {
		if p.ph == placeholderSession {
			hasSession = true
		}
		if strings.ContainsAny(p.literal, "*> \t\r\n{}") {
			return nil, fmt.Errorf("subject template %q: literal %q holds a wildcard, a brace or whitespace", tmpl, p.literal)
		}
	}
	if !hasSession {
		return nil, fmt.Errorf("subject template %q must contain {session}", tmpl)
	}
	for _, tok := range strings.Split(st.wildcard(), ".") {
		if tok == "" {
			return nil, fmt.Errorf("subject template %q has an empty token", tmpl)
		}
	}
	return st, nil
}

// appendSubject appends the subject for session and typ to dst.
func (st *subjectTemplate) appendSubject(dst []byte, session, typ string) []byte {
	for _, p := range st.parts {
		switch p.ph {
		case placeholderSession:
			dst = appendToken(dst, session)
		case placeholderType:
			dst = appendToken(dst, typ)
		default:
			dst = append(dst, p.literal...)
		}
	}
	return dst
}

// subject returns the subject for session and typ.
func (st *subjectTemplate) subject(session, typ string) string {
	return string(st.appendSubject(make([]byte, 0, len(st.raw)+len(session)+len(typ)), session, typ))
}

// wildcard returns the stream subject that matches every subject the
// template produces: each token that holds a placeholder becomes '*'.
func (st *subjectTemplate) wildcard() string {
	var b strings.Builder
	for _, p := range st.parts {
		if p.ph != "" {
			b.WriteString("\x00")
		} else {
			b.WriteString(p.literal)
		}
	}
	toks := strings.Split(b.String(), ".")
	for i, t := range toks {
		if strings.Contains(t, "\x00") {
			toks[i] = "*"
		}
	}
	return strings.Join(toks, ".")
}
