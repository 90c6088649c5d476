package configurl

import (
	"errors"
	"maps"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	cases := []struct {
		raw     string
		wantErr string
	}{
		{"sqs://events?region=x", ""},
		{"kafka://events", `sqs: parse url: scheme "kafka" is not sqs`},
		{"sqs://u:p@events", "sqs: parse url: credentials in the URL are not supported; use the chain"},
		{"sqs://events\x7f", "sqs: parse url: "},
	}
	for _, tc := range cases {
		u, err := Parse(tc.raw, "sqs", "use the chain")
		if tc.wantErr == "" {
			if err != nil || u.Host != "events" {
				t.Errorf("Parse(%q) = %v, %v", tc.raw, u, err)
			}
			continue
		}
		if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
			t.Errorf("Parse(%q) error = %v, want prefix %q", tc.raw, err, tc.wantErr)
		}
	}
}

func TestParams(t *testing.T) {
	u, err := Parse("x://h?a=1&b=&c=%2F", "x", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := Params(u, "x")
	if want := map[string]string{"a": "1", "b": "", "c": "/"}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("Params = %v, %v; want %v", got, err, want)
	}
	u, _ = Parse("x://h?a=1&a=2", "x", "")
	if _, err := Params(u, "x"); err == nil || err.Error() != `x: parse url: parameter "a" given 2 times` {
		t.Fatalf("repeated parameter: %v", err)
	}
}

func TestErrors(t *testing.T) {
	if got := Unknown("x", "color").Error(); got != `x: parse url: unknown parameter "color"` {
		t.Fatalf("Unknown = %q", got)
	}
	cause := errors.New("invalid syntax")
	err := BadValue("x", "timeout", "soon", cause)
	if !errors.Is(err, cause) || err.Error() != `x: parse url: parameter timeout="soon": invalid syntax` {
		t.Fatalf("BadValue = %v", err)
	}
}
