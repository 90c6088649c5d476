// Package timefmt formats instants the way time.RFC3339Nano does in UTC,
// without the general layout machinery: the session files, the JSON form of
// events and several transports write one timestamp per event.
package timefmt

import "time"

// maxFast is the first second (Unix) of year 10000; the fast path covers
// years 1970 to 9999 and defers to package time elsewhere.
const maxFast = 253402300800

// AppendRFC3339Nano appends the instant unixNanos (nanoseconds since the
// Unix epoch) to dst exactly as
// time.Unix(0, unixNanos).UTC().AppendFormat(dst, time.RFC3339Nano) does:
// "2006-01-02T15:04:05.999999999Z" with trailing zeros of the fraction, and
// a zero fraction, left out.
func AppendRFC3339Nano(dst []byte, unixNanos int64) []byte {
	sec, nsec := unixNanos/1e9, unixNanos%1e9
	if nsec < 0 {
		sec, nsec = sec-1, nsec+1e9
	}
	if sec < 0 || sec >= maxFast {
		return time.Unix(0, unixNanos).UTC().AppendFormat(dst, time.RFC3339Nano)
	}
	return appendFast(dst, sec, nsec)
}

// AppendTime appends t in UTC as time.RFC3339Nano does.
func AppendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if sec < 0 || sec >= maxFast {
		return t.UTC().AppendFormat(dst, time.RFC3339Nano)
	}
	return appendFast(dst, sec, int64(t.Nanosecond()))
}

// appendFast formats sec (in [0, maxFast)) and nsec (in [0, 1e9)).
func appendFast(dst []byte, sec, nsec int64) []byte {
	days := sec / 86400
	rem := sec % 86400
	y, m, d := civil(days)
	var b [30]byte
	put4(b[0:4], y)
	b[4] = '-'
	put2(b[5:7], m)
	b[7] = '-'
	put2(b[8:10], d)
	b[10] = 'T'
	put2(b[11:13], int(rem/3600))
	b[13] = ':'
	put2(b[14:16], int(rem/60%60))
	b[16] = ':'
	put2(b[17:19], int(rem%60))
	n := 19
	if nsec != 0 {
		b[19] = '.'
		for i := 28; i >= 20; i-- {
			b[i] = byte('0' + nsec%10)
			nsec /= 10
		}
		n = 29
		for b[n-1] == '0' {
			n--
		}
	}
	b[n] = 'Z'
	return append(dst, b[:n+1]...)
}

// civil converts days since 1970-01-01 (non-negative) to a proleptic
// Gregorian date (the inverse of the days-from-civil algorithm over 400-year
// eras).
func civil(days int64) (year, month, day int) {
	z := days + 719468
	era := z / 146097
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100) // [0, 365]
	mp := (5*doy + 2) / 153                  // [0, 11], March first
	d := doy - (153*mp+2)/5 + 1              // [1, 31]
	m := mp + 3
	if m > 12 {
		m -= 12
		y++
	}
	return int(y), int(m), int(d)
}

func put2(b []byte, v int) {
	b[0] = byte('0' + v/10)
	b[1] = byte('0' + v%10)
}

func put4(b []byte, v int) {
	b[0] = byte('0' + v/1000)
	b[1] = byte('0' + v/100%10)
	b[2] = byte('0' + v/10%10)
	b[3] = byte('0' + v%10)
}
