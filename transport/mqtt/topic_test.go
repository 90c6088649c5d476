package mqtt

import (
	"strings"
	"testing"
)

func TestEscapeTopicLevel(t *testing.T) {
	cases := map[string]string{
		"":             "",
		"plain-id_1.2": "plain-id_1.2",
		"日本語":          "日本語",
		"a+b":          "a%2Bb",
		"a#b":          "a%23b",
		"a/b":          "a%2Fb",
		"$SYS":         "%24SYS",
		"100%":         "100%25",
		"%2B":          "%252B",
		"tab\there":    "tab%09here",
		"nul\x00":      "nul%00",
		"del\x7f":      "del%7F",
		"c1\u0085":     "c1%C2%85",
		"bad\xff":      "bad\uFFFD",
		"+/#":          "%2B%2F%23",
		"emoji🚀+":      "emoji🚀%2B",
	}
	for in, want := range cases {
		got := EscapeTopicLevel(in)
		if got != want {
			t.Errorf("EscapeTopicLevel(%q) = %q, want %q", in, got, want)
		}
		if strings.ContainsAny(got, "+#/\x00") || strings.HasPrefix(got, "$") {
			t.Errorf("EscapeTopicLevel(%q) = %q still breaks a topic", in, got)
		}
		if in != "bad\xff" {
			if back := UnescapeTopicLevel(got); back != in {
				t.Errorf("UnescapeTopicLevel(%q) = %q, want %q", got, back, in)
			}
		}
	}
}

func TestTopicTemplate(t *testing.T) {
	cases := []struct {
		tmpl, session, typ, want string
	}{
		{"eventgate/events/{session}", "s-1", "x", "eventgate/events/s-1"},
		{"eventgate/{type}/{session}", "s+1", "tool.call/v2", "eventgate/tool.call%2Fv2/s%2B1"},
		{"ev/{session}-{type}", "a", "", "ev/a-"},
		{"{session}", "$x", "", "%24x"},
		{"fixed/topic", "s", "t", "fixed/topic"},
		{"a/{type}/b", "s", "", "a//b"}, // an empty type is an empty level, which MQTT allows
	}
	for _, c := range cases {
		tt, err := parseTopic(c.tmpl)
		if err != nil {
			t.Errorf("parseTopic(%q): %v", c.tmpl, err)
			continue
		}
		got, err := tt.render(c.session, c.typ)
		if err != nil || got != c.want {
			t.Errorf("%q with (%q, %q) = %q, %v; want %q", c.tmpl, c.session, c.typ, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "a/+/b", "a/#", "$SYS/x", "a/{sesion}", "a/{session", "a}b", "nul\x00", "bad\xff"} {
		if _, err := parseTopic(bad); err == nil {
			t.Errorf("parseTopic(%q): got nil error", bad)
		}
	}
	tt, _ := parseTopic("{type}")
	if _, err := tt.render("s", ""); err == nil {
		t.Error("an empty topic was rendered without error")
	}
	if _, err := tt.render("s", strings.Repeat("t", maxTopicLen+1)); err == nil {
		t.Error("a topic over 65535 bytes was rendered without error")
	}
}
