package kafka

import (
	"fmt"
	"strings"

	"github.com/eventgate/eventgate"
)

// topicTemplate expands a topic that may hold "{session}" and "{type}".
type topicTemplate struct {
	fixed string   // the topic when the template has no placeholder
	parts []string // literal, placeholder, literal, … when it has
}

const (
	phSession = "{session}"
	phType    = "{type}"
)

// validateTopicTemplate checks that tmpl's literal text is a legal topic and
// that every brace belongs to a known placeholder.
func validateTopicTemplate(tmpl string) error {
	lit := strings.NewReplacer(phSession, "", phType, "").Replace(tmpl)
	if strings.ContainsAny(lit, "{}") {
		return fmt.Errorf("topic %q: unknown placeholder (want {session} or {type})", tmpl)
	}
	for i := 0; i < len(lit); i++ {
		if !topicChar(lit[i]) {
			return fmt.Errorf("topic %q: character %q not allowed in a topic name", tmpl, lit[i])
		}
	}
	if tmpl == lit {
		if tmpl == "." || tmpl == ".." {
			return fmt.Errorf("topic %q: not a legal topic name", tmpl)
		}
		if len(tmpl) > maxTopicLen {
			return fmt.Errorf("topic %q: longer than %d bytes", tmpl, maxTopicLen)
		}
	}
	return nil
}

func newTopicTemplate(tmpl string) topicTemplate {
	if !strings.Contains(tmpl, phSession) && !strings.Contains(tmpl, phType) {
		return topicTemplate{fixed: tmpl}
	}
	var parts []string
	for rest := tmpl; rest != ""; {
		i := strings.IndexByte(rest, '{')
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		switch {
		case strings.HasPrefix(rest[i:], phSession):
			parts = append(parts, rest[:i], phSession)
			rest = rest[i+len(phSession):]
		case strings.HasPrefix(rest[i:], phType):
			parts = append(parts, rest[:i], phType)
			rest = rest[i+len(phType):]
		default: // unreachable after validation; keep the brace literally
			parts = append(parts, rest[:i+1])
			rest = rest[i+1:]
		}
	}
	return topicTemplate{parts: parts}
}

// topic returns the topic for ev.
func (t topicTemplate) topic(ev *eventgate.Event) string {
	if t.parts == nil {
		return t.fixed
	}
	var b strings.Builder
	for _, p := range t.parts {
		switch p {
		case phSession:
			writeTopicSafe(&b, ev.SessionID)
		case phType:
			writeTopicSafe(&b, ev.Type)
		default:
			b.WriteString(p)
		}
	}
	s := b.String()
	if len(s) > maxTopicLen {
		s = s[:maxTopicLen]
	}
	if s == "" || s == "." || s == ".." {
		s = strings.Repeat("_", max(len(s), 1))
	}
	return s
}

// writeTopicSafe writes s with every byte a topic name cannot hold replaced
// by '_' (a multi-byte character becomes one '_' per byte).
func writeTopicSafe(b *strings.Builder, s string) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; topicChar(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
}

func topicChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
}
