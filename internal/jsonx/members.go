package jsonx

// Members calls fn with the raw key (quotes included) and raw value of each
// top-level member of the JSON object b, in order, until fn returns false.
// It returns false when b is not a well-formed object; members before the
// malformation may already have been passed to fn.
func Members(b []byte, fn func(key, value []byte) bool) bool {
	v := validator{b: b}
	v.space()
	if v.i >= len(b) || b[v.i] != '{' {
		return false
	}
	v.i++
	v.space()
	if v.i < len(b) && b[v.i] == '}' {
		v.i++
		v.space()
		return v.i == len(b)
	}
	for {
		ks := v.i
		if v.i >= len(b) || b[v.i] != '"' || !v.str() {
			return false
		}
		key := b[ks:v.i]
		v.space()
		if v.i >= len(b) || b[v.i] != ':' {
			return false
		}
		v.i++
		v.space()
		vs := v.i
		if !v.value(1) {
			return false
		}
		if !fn(key, b[vs:v.i]) {
			return true
		}
		v.space()
		if v.i >= len(b) {
			return false
		}
		switch b[v.i] {
		case ',':
			v.i++
			v.space()
		case '}':
			v.i++
			v.space()
			return v.i == len(b)
		default:
			return false
		}
	}
}
