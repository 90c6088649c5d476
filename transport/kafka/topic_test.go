package kafka

import (
	"strings"
	"testing"

	"github.com/eventgate/eventgate"
)

func TestTopicTemplate(t *testing.T) {
	tests := []struct {
		tmpl, session, typ, want string
	}{
		{"events", "s1", "msg", "events"},
		{"events.{session}", "s1", "msg", "events.s1"},
		{"{type}-{session}", "s1", "tool.call", "tool.call-s1"},
		{"ev.{session}", "user:42 ü", "", "ev.user_42___"},
		{"ev.{type}", "s", "", "ev."},
		{"{type}", "s", "", "_"},
		{"{session}", "s", "", "s"},
		{"x{session}y{session}", "a", "", "xaya"},
		{"ev.{session}", strings.Repeat("s", 300), "", "ev." + strings.Repeat("s", maxTopicLen-3)},
	}
	for _, tt := range tests {
		if err := validateTopicTemplate(tt.tmpl); err != nil {
			t.Fatalf("validate %q: %v", tt.tmpl, err)
		}
		got := newTopicTemplate(tt.tmpl).topic(&eventgate.Event{SessionID: tt.session, Type: tt.typ})
		if got != tt.want {
			t.Errorf("template %q session %q type %q: got %q, want %q", tt.tmpl, tt.session, tt.typ, got, tt.want)
		}
		if err := validateTopicTemplate(got); err != nil {
			t.Errorf("expansion %q of %q is not a legal topic: %v", got, tt.tmpl, err)
		}
	}
}
