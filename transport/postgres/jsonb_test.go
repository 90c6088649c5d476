package postgres

import (
	"encoding/json"
	"testing"
)

// TestJSONBRefusalMatchesServer checks jsonbRefuses against the server
// itself: for each valid JSON text, jsonb input fails exactly when
// jsonbRefuses says it will (so such Data goes to data_text and all other
// Data to data).
func TestJSONBRefusalMatchesServer(t *testing.T) {
	o := newObserver(t, serverURL(t))
	cases := []string{
		`"\u0000"`, `{"k":"\u0000"}`, `{"\u0000":1}`, `["a\u0000b"]`,
		`"\\u0000"`, `"\\\u0000"`, `"\\\\u0000"`, `"x\"\u0000"`,
		`"\ud800"`, `"\udbff"`, `"\udc00"`, `"\udfff"`, `"\ud800x"`, `"\ud800\u0041"`, `"\ud800\ud800"`,
		`"\ud83d\ude00"`, `"\uD83D\uDE00"`, `"\ud7ff"`, `"\ue000"`, `"\u0001"`, `"\u00e9"`, `"\u2028"`,
		`"a\/b\n\t\r\b\f"`, `{"u":"\u0041","n":null}`, `"\udc00\ud800"`, `"\ud83d\ude00\u0000"`,
		`1`, `null`, `[]`, `{}`,
	}
	for _, c := range cases {
		if !json.Valid([]byte(c)) {
			t.Fatalf("case %s is not valid JSON", c)
		}
		var ok bool
		_, err := o.pool.Exec(t.Context(), `SELECT $1::text::jsonb`, c)
		ok = err == nil
		if refuses := jsonbRefuses([]byte(c)); refuses == ok {
			t.Errorf("%s: jsonbRefuses = %v, but the server says %v", c, refuses, err)
		}
	}
}

func FuzzJSONBRefuses(f *testing.F) {
	for _, s := range []string{`"\u0000"`, `"\ud800"`, `"\ud83d\ude00"`, `"\\u0000"`, `{"a":"\udc00"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		// Never panics, on any input, valid JSON or not.
		_ = jsonbRefuses([]byte(s))
	})
}
