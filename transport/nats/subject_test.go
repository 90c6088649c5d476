package nats

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEncodeToken(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc-123_XYZ", "abc-123_XYZ"},
		{"0190d7a4-7f7e-7c3e-8f1a-1234567890ab", "0190d7a4-7f7e-7c3e-8f1a-1234567890ab"},
		{"user.42", "user%2E42"},
		{"a b", "a%20b"},
		{"*", "%2A"},
		{">", "%3E"},
		{"50%", "50%25"},
		{"%", "%25"},
		{"", "%"},
		{"tab\there", "tab%09here"},
		{"nl\r\n", "nl%0D%0A"},
		{"del\x7f", "del%7F"},
		{"セッション", "セッション"},
		{"bad\xffutf8", "bad%FFutf8"},
		{"a.b*c>d e", "a%2Eb%2Ac%3Ed%20e"},
	}
	for _, tc := range tests {
		got := EncodeToken(tc.in)
		if got != tc.want {
			t.Errorf("EncodeToken(%q) = %q, want %q", tc.in, got, tc.want)
		}
		back, err := DecodeToken(got)
		if err != nil || back != tc.in {
			t.Errorf("DecodeToken(%q) = %q, %v; want %q", got, back, err, tc.in)
		}
		if strings.ContainsAny(got, ".*> \t\r\n") {
			t.Errorf("EncodeToken(%q) = %q holds a character illegal in a token", tc.in, got)
		}
	}
}

func TestDecodeTokenErrors(t *testing.T) {
	for _, tok := range []string{"", "a%", "a%2", "%zz", "%G0"} {
		if _, err := DecodeToken(tok); !errors.Is(err, ErrBadToken) {
			t.Errorf("DecodeToken(%q) error = %v, want ErrBadToken", tok, err)
		}
	}
}

func FuzzEncodeToken(f *testing.F) {
	for _, s := range []string{"", "%", "a.b", "x y", "*>", "\xff\xfe", "日本", "%25"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tok := EncodeToken(s)
		if tok == "" || strings.ContainsAny(tok, ".*> \t\r\n\x00") {
			t.Fatalf("EncodeToken(%q) = %q is not a legal token", s, tok)
		}
		if !utf8.ValidString(tok) {
			t.Fatalf("EncodeToken(%q) = %q is not valid UTF-8", s, tok)
		}
		back, err := DecodeToken(tok)
		if err != nil || back != s {
			t.Fatalf("DecodeToken(EncodeToken(%q)) = %q, %v", s, back, err)
		}
	})
}

func TestSubjectTemplate(t *testing.T) {
	tests := []struct {
		tmpl, session, typ string
		subject, wildcard  string
	}{
		{"events.{session}", "s1", "x", "events.s1", "events.*"},
		{"events.{session}", "a.b", "", "events.a%2Eb", "events.*"},
		{"ev.{session}.{type}", "s", "tool.call", "ev.s.tool%2Ecall", "ev.*.*"},
		{"ev.{type}.{session}", "s", "", "ev.%.s", "ev.*.*"},
		{"ev.s-{session}.x", "42", "", "ev.s-42.x", "ev.*.x"},
		{"{session}", "a b", "", "a%20b", "*"},
	}
	for _, tc := range tests {
		st, err := parseSubjectTemplate(tc.tmpl)
		if err != nil {
			t.Fatalf("parseSubjectTemplate(%q): %v", tc.tmpl, err)
		}
		if got := st.subject(tc.session, tc.typ); got != tc.subject {
			t.Errorf("%q.subject(%q, %q) = %q, want %q", tc.tmpl, tc.session, tc.typ, got, tc.subject)
		}
		if got := st.wildcard(); got != tc.wildcard {
			t.Errorf("%q.wildcard() = %q, want %q", tc.tmpl, got, tc.wildcard)
		}
	}
}

func TestSubjectTemplateInvalid(t *testing.T) {
	for _, tmpl := range []string{
		"",
		"events",             // no {session}
		"events.{type}",      // no {session}
		"events.{sess}",      // unknown placeholder
		"events.*.{session}", // wildcard
		"events.>",
		"events..{session}",
		".{session}",
		"{session}.",
		"ev ents.{session}",
		"events.{session",
	} {
		if _, err := parseSubjectTemplate(tmpl); err == nil {
			t.Errorf("parseSubjectTemplate(%q) accepted an invalid template", tmpl)
		}
	}
}
