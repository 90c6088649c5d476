package mqtt

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxTopicLen is MQTT's limit on a topic name, in bytes.
const maxTopicLen = 65535

// topicPart is a literal piece of a template or one of its placeholders.
type topicPart struct {
	literal string
	field   byte // 0 for a literal, 's' for {session}, 't' for {type}
}

// topicTemplate is a parsed Config.Topic.
type topicTemplate struct {
	parts []topicPart
}

// parseTopic parses and checks a topic template.
func parseTopic(tmpl string) (topicTemplate, error) {
	var t topicTemplate
	if tmpl == "" {
		return t, errors.New("mqtt: empty topic template")
	}
	if !utf8.ValidString(tmpl) {
		return t, fmt.Errorf("mqtt: topic template %q is not valid UTF-8", tmpl)
	}
	if strings.HasPrefix(tmpl, "$") {
		return t, fmt.Errorf("mqtt: topic template %q starts with '$', which brokers reserve", tmpl)
	}
	rest := tmpl
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			t.parts = append(t.parts, topicPart{literal: rest})
			break
		}
		if open > 0 {
			t.parts = append(t.parts, topicPart{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("mqtt: topic template %q: unclosed '{'", tmpl)
		}
		switch name := rest[open+1 : open+end]; name {
		case "session":
			t.parts = append(t.parts, topicPart{field: 's'})
		case "type":
			t.parts = append(t.parts, topicPart{field: 't'})
		default:
			return t, fmt.Errorf("mqtt: topic template %q: unknown placeholder {%s}; use {session} or {type}", tmpl, name)
		}
		rest = rest[open+end+1:]
	}
	for _, p := range t.parts {
		if i := strings.IndexAny(p.literal, "+#\x00}"); i >= 0 {
			return t, fmt.Errorf("mqtt: topic template %q: %q is not allowed in a topic name", tmpl, p.literal[i])
		}
	}
	return t, nil
}

// render returns the topic for one event.
func (t topicTemplate) render(session, typ string) (string, error) {
	var b strings.Builder
	for _, p := range t.parts {
		switch p.field {
		case 's':
			b.WriteString(EscapeTopicLevel(session))
		case 't':
			b.WriteString(EscapeTopicLevel(typ))
		default:
			b.WriteString(p.literal)
		}
	}
	topic := b.String()
	switch {
	case topic == "":
		return "", errors.New("topic is empty")
	case len(topic) > maxTopicLen:
		return "", fmt.Errorf("topic is %d bytes; MQTT allows %d", len(topic), maxTopicLen)
	}
	return topic, nil
}

// EscapeTopicLevel returns s as it appears in a topic: the characters that
// would change the topic's structure or that brokers refuse are
// percent-encoded, byte by byte:
//
//	'/' (a level separator), '+' and '#' (wildcards), '$' (reserved at the
//	start of a topic), '%' (the escape itself), and control characters
//	(NUL, U+0001–U+001F, U+007F–U+009F)
//
// and invalid UTF-8 becomes U+FFFD. Every other character, including
// non-ASCII text, is kept. The mapping is one-to-one, so two session ids
// never share a topic, and a subscriber can reverse it with
// UnescapeTopicLevel. Session ids that eventgate accepts contain no '/' or
// control characters, but may contain '+', '#', '$' or '%'.
func EscapeTopicLevel(s string) string {
	if !needsTopicEscape(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for _, r := range s {
		if escapeRune(r) {
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			for _, c := range buf[:n] {
				b.WriteByte('%')
				b.WriteByte("0123456789ABCDEF"[c>>4])
				b.WriteByte("0123456789ABCDEF"[c&15])
			}
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func escapeRune(r rune) bool {
	switch r {
	case '/', '+', '#', '$', '%':
		return true
	}
	return r < 0x20 || (r >= 0x7f && r <= 0x9f)
}

func needsTopicEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '/' || c == '+' || c == '#' || c == '$' || c == '%' || c >= 0x80 {
			if c >= 0x80 {
				// Non-ASCII: only C1 controls and invalid UTF-8 need work.
				r, size := utf8.DecodeRuneInString(s[i:])
				if (r == utf8.RuneError && size == 1) || (r >= 0x80 && r <= 0x9f) {
					return true
				}
				i += size - 1
				continue
			}
			return true
		}
	}
	return false
}

// UnescapeTopicLevel reverses EscapeTopicLevel. A '%' not followed by two
// hex digits is kept as it is.
func UnescapeTopicLevel(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}
