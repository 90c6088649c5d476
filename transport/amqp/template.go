package amqp

import (
	"fmt"
	"strings"

	"github.com/eventgate/eventgate"
)

const (
	phSession = "{session}"
	phType    = "{type}"
)

// template expands an exchange name or routing key over "{session}" and
// "{type}". When safe is non-nil, every expanded byte it refuses becomes '_'.
type template struct {
	fixed string
	parts []string // literal, placeholder, literal, … when the text has placeholders
	safe  func(byte) bool
}

// validateTemplate checks that every brace in tmpl belongs to a placeholder,
// that its literal text is allowed (safe nil allows any byte) and fits a
// short string.
func validateTemplate(what, tmpl string, safe func(byte) bool) error {
	lit := strings.NewReplacer(phSession, "", phType, "").Replace(tmpl)
	if strings.ContainsAny(lit, "{}") {
		return fmt.Errorf("%s %q: unknown placeholder (want {session} or {type})", what, tmpl)
	}
	if safe != nil {
		for i := 0; i < len(lit); i++ {
			if !safe(lit[i]) {
				return fmt.Errorf("%s %q: character %q not allowed", what, tmpl, lit[i])
			}
		}
	}
	if len(lit) > maxShortString {
		return fmt.Errorf("%s %q: longer than %d bytes", what, tmpl, maxShortString)
	}
	return nil
}

func newTemplate(tmpl string, safe func(byte) bool) template {
	t := template{safe: safe}
	if !strings.Contains(tmpl, phSession) && !strings.Contains(tmpl, phType) {
		t.fixed = tmpl
		return t
	}
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		switch {
		case i < 0:
			t.parts = append(t.parts, rest)
			rest = ""
		case strings.HasPrefix(rest[i:], phSession):
			t.parts = append(t.parts, rest[:i], phSession)
			rest = rest[i+len(phSession):]
		case strings.HasPrefix(rest[i:], phType):
			t.parts = append(t.parts, rest[:i], phType)
			rest = rest[i+len(phType):]
		default: // unreachable after validation: keep the brace
			t.parts = append(t.parts, rest[:i+1])
			rest = rest[i+1:]
		}
	}
	return t
}

// expand returns the text for ev.
func (t template) expand(ev *eventgate.Event) string {
	if t.parts == nil {
		return t.fixed
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p {
		case phSession:
			t.write(&b, ev.SessionID)
		case phType:
			t.write(&b, ev.Type)
		default:
			b.WriteString(p)
		}
	}
	return b.String()
}

func (t template) write(b *strings.Builder, s string) {
	if t.safe == nil {
		b.WriteString(s)
		return
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; t.safe(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
}

// exchangeChar reports whether RabbitMQ accepts c in an exchange name.
func exchangeChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == ':'
}
