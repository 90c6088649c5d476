package eventgate

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventgate/eventgate/internal/catalog"
)

func TestCursorRoundTrip(t *testing.T) {
	for _, pos := range []catalog.Position{{LastNs: 0, ID: "a"}, {LastNs: -1, ID: "é-x"}, {LastNs: 1 << 62, ID: strings.Repeat("z", MaxSessionIDLen)}} {
		got, err := decodeCursor(encodeCursor(pos))
		if err != nil || got != pos {
			t.Fatalf("%+v: %+v %v", pos, got, err)
		}
	}
	c := encodeCursor(catalog.Position{LastNs: 42, ID: "session-1"})
	for name, bad := range map[string]string{
		"empty":      "",
		"not base64": "!!!",
		"short":      c[:6],
		"one more":   c + "A",
		"flipped":    c[:5] + string(c[5]^1) + c[6:],
		"too long":   strings.Repeat("A", 1000),
	} {
		if _, err := decodeCursor(bad); !errors.Is(err, ErrInvalidQuery) {
			t.Errorf("%s: %v, want ErrInvalidQuery", name, err)
		}
	}
}

// FuzzDecodeCursor: a cursor is outside input; decoding never panics, and
// whatever decodes names a valid session and encodes back to itself.
func FuzzDecodeCursor(f *testing.F) {
	f.Add(encodeCursor(catalog.Position{LastNs: 1764150000123456789, ID: "s-1"}))
	f.Add("AQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		pos, err := decodeCursor(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidQuery) {
				t.Fatalf("%q: %v does not match ErrInvalidQuery", s, err)
			}
			return
		}
		if ValidateSessionID(pos.ID) != nil {
			t.Fatalf("%q decodes to invalid id %q", s, pos.ID)
		}
		if got := encodeCursor(pos); got != s {
			t.Fatalf("%q decodes to %+v, which encodes to %q", s, pos, got)
		}
	})
}
