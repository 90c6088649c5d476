package mongo

import "strings"

// EscapeKey returns the field name under which a key of Data or Meta is
// stored. Servers differ in which names they accept (MongoDB before 5.0 and
// FerretDB refuse '.' anywhere and '$' in front; no server accepts NUL), and
// a dot in a stored name breaks dot-notation queries everywhere. So those
// characters, and '%' itself, are percent-encoded:
//
//	'%' → "%25"   '.' → "%2E"   NUL → "%00"   a leading '$' → "%24"
//
// Every other key, the usual case, is stored unchanged. The mapping is
// one-to-one (distinct keys never share a stored name) and UnescapeKey
// reverses it: "user.id" is stored as "user%2Eid" and queried as
// {"meta.user%2Eid": …}.
func EscapeKey(k string) string {
	if !needsEscape(k) {
		return k
	}
	var b strings.Builder
	b.Grow(len(k) + 8)
	for i := 0; i < len(k); i++ {
		switch c := k[i]; {
		case c == '%':
			b.WriteString("%25")
		case c == '.':
			b.WriteString("%2E")
		case c == 0:
			b.WriteString("%00")
		case c == '$' && i == 0:
			b.WriteString("%24")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func needsEscape(k string) bool {
	if k != "" && k[0] == '$' {
		return true
	}
	return strings.ContainsAny(k, "%.\x00")
}

// UnescapeKey reverses EscapeKey. A '%' not followed by two hex digits
// (a name not written by EscapeKey) is kept as it is.
func UnescapeKey(k string) string {
	i := strings.IndexByte(k, '%')
	if i < 0 {
		return k
	}
	var b strings.Builder
	b.Grow(len(k))
	b.WriteString(k[:i])
	for ; i < len(k); i++ {
		c := k[i]
		if c == '%' && i+2 < len(k) && isHex(k[i+1]) && isHex(k[i+2]) {
			b.WriteByte(unhex(k[i+1])<<4 | unhex(k[i+2]))
			i += 2
			continue
		}
		b.WriteByte(c)
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
