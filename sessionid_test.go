package eventgate_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/eventgate/eventgate"
)

func TestValidateSessionID(t *testing.T) {
	cases := []struct {
		id string
		ok bool
	}{
		{"s-1", true},
		{"user_42.chat", true},
		{"Ünïcödé セッション", true},
		{"has space", true},
		{"a..b", true},
		{strings.Repeat("a", 200), true},
		{strings.Repeat("é", 100), true}, // 200 bytes
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"..\\x", false},
		{"/etc", false},
		{"a/b", false},
		{"a\\b", false},
		{".hidden", false},
		{".eventgate", false},
		{"a\x00b", false},
		{"line\nbreak", false},
		{"tab\t", false},
		{"del\x7f", false},
		{"c1\u0085", false},
		{"\xff\xfe", false},
		{strings.Repeat("a", 201), false},
		{strings.Repeat("a", 10<<10), false},
	}
	for _, c := range cases {
		err := eventgate.ValidateSessionID(c.id)
		if c.ok && err != nil {
			t.Errorf("%q rejected: %v", c.id, err)
		}
		if !c.ok && !errors.Is(err, eventgate.ErrInvalidSessionID) {
			t.Errorf("%q accepted (err %v)", c.id, err)
		}
	}
}

// FuzzValidateSessionID checks that every accepted id is a single, plain
// directory entry inside the sessions directory, distinct for distinct ids.
func FuzzValidateSessionID(f *testing.F) {
	for _, s := range []string{"s-1", "../x", "/etc", "a\x00b", ".", "..", "é", "a/b", `a\b`, ".x"} {
		f.Add(s)
	}
	base := f.TempDir()
	f.Fuzz(func(t *testing.T, id string) {
		if eventgate.ValidateSessionID(id) != nil {
			return
		}
		if !utf8.ValidString(id) || len(id) > eventgate.MaxSessionIDLen || strings.ContainsAny(id, "/\\\x00") ||
			id[0] == '.' {
			t.Fatalf("accepted %q", id)
		}
		p := filepath.Join(base, id)
		if filepath.Dir(p) != base || filepath.Base(p) != id {
			t.Fatalf("%q does not name one entry of the base directory (%s)", id, p)
		}
		// The name round-trips through the file system unchanged.
		if err := os.Mkdir(p, 0o755); err != nil && !os.IsExist(err) {
			t.Fatalf("mkdir %q: %v", id, err)
		}
		ents, err := os.ReadDir(base)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, e := range ents {
			if e.Name() == id {
				found = true
			}
		}
		if !found {
			t.Fatalf("directory for %q not found by its name", id)
		}
		_ = os.Remove(p)
	})
}
