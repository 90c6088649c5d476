package jsonx

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var cases = []string{
	`null`, `true`, `false`, `0`, `-0`, `1.5e10`, `-1E-2`, `"x"`, `""`, `{}`, `[]`, ` {"a" : [1, 2, {"b":null}] } `,
	`"\u00e9\n\"\\\/"`, "\"\xff\"", `{"a":1,}`, `[1,]`, `01`, `1.`, `.5`, `-`, `1e`, `+1`, `"\x"`, `"\u12"`,
	"\"a\tb\"", `{"a"}`, `{"a":}`, `{1:2}`, `[1 2]`, `nul`, `truex`, `{"a":1}{}`, ``, ` `, `"unterminated`,
	`[` + strings.Repeat(`[`, 20000) + strings.Repeat(`]`, 20001), `{"a":"\ud800"}`, "\u2028", `"\u2028"`,
}

func TestAgreesWithEncodingJSON(t *testing.T) {
	for _, c := range cases {
		if got, want := Valid([]byte(c)), json.Valid([]byte(c)); got != want {
			t.Errorf("Valid(%.40q) = %v, encoding/json says %v", c, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	for _, c := range cases {
		f.Add([]byte(c))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Valid(b), json.Valid(b); got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json says %v", b, got, want)
		}
	})
}

func BenchmarkValid(b *testing.B) {
	data := []byte(`{"type":"message","text":"` + strings.Repeat("x", 200) + `","n":[1,2.5,-3e4],"ok":true}`)
	b.SetBytes(int64(len(data)))
	b.Run("jsonx", func(b *testing.B) {
		for b.Loop() {
			Valid(data)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			json.Valid(data)
		}
	})
}

func TestMembers(t *testing.T) {
	var keys, vals []string
	ok := Members([]byte(` {"a" : 1, "b":{"c":[1,2]} ,"d":"x"} `), func(k, v []byte) bool {
		keys, vals = append(keys, string(k)), append(vals, string(v))
		return true
	})
	if !ok || strings.Join(keys, ",") != `"a","b","d"` || strings.Join(vals, ";") != `1;{"c":[1,2]};"x"` {
		t.Fatalf("ok=%v keys=%v vals=%v", ok, keys, vals)
	}
	for _, bad := range []string{`[1]`, `{"a":1,}`, `{"a" 1}`, `{"a":1} x`, ``, `{`} {
		if Members([]byte(bad), func(_, _ []byte) bool { return true }) {
			t.Errorf("Members(%q) = true", bad)
		}
	}
}
