package timefmt

import (
	"math"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func want(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

func check(t *testing.T, ns int64) {
	t.Helper()
	if got := string(AppendRFC3339Nano([]byte("x"), ns)); got != "x"+want(ns) {
		t.Fatalf("AppendRFC3339Nano(%d) = %q, want %q", ns, got[1:], want(ns))
	}
	tm := time.Unix(0, ns).In(time.FixedZone("east", 5*3600+1800))
	if got := string(AppendTime(nil, tm)); got != want(ns) {
		t.Fatalf("AppendTime(%d) = %q, want %q", ns, got, want(ns))
	}
}

func TestMatchesTimeFormat(t *testing.T) {
	for _, ns := range []int64{
		0, 1, -1, 999_999_999, 1_000_000_000, -1_000_000_000, 100, 120_000_000,
		time.Date(2000, 2, 29, 23, 59, 59, 999_999_999, time.UTC).UnixNano(),
		time.Date(2100, 3, 1, 0, 0, 0, 1, time.UTC).UnixNano(),
		time.Date(2024, 12, 31, 12, 0, 0, 500, time.UTC).UnixNano(),
		time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC).UnixNano(),
		math.MaxInt64, math.MinInt64,
	} {
		check(t, ns)
	}
	// Every day of four centuries around now, at a varying time of day.
	start := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	for d := range 400 * 366 {
		ns := start.AddDate(0, 0, d).UnixNano() + int64(d)*7_919_000_003%86_400_000_000_000
		check(t, ns)
	}
	// Times past year 9999, which the fast path leaves to package time.
	for _, y := range []int{9999, 10000, 12345} {
		tm := time.Date(y, 12, 31, 23, 59, 59, 123, time.UTC)
		if got := string(AppendTime(nil, tm)); got != tm.Format(time.RFC3339Nano) {
			t.Fatalf("AppendTime(year %d) = %q, want %q", y, got, tm.Format(time.RFC3339Nano))
		}
	}
}

func FuzzAppendRFC3339Nano(f *testing.F) {
	f.Add(int64(0))
	f.Add(time.Now().UnixNano())
	f.Add(int64(-1))
	f.Fuzz(func(t *testing.T, ns int64) { check(t, ns) })
}

func BenchmarkAppendRFC3339Nano(b *testing.B) {
	buf := make([]byte, 0, 64)
	ns := time.Now().UnixNano()
	for b.Loop() {
		buf = AppendRFC3339Nano(buf[:0], ns)
	}
}

func BenchmarkTimeAppendFormat(b *testing.B) {
	buf := make([]byte, 0, 64)
	tm := time.Now()
	for b.Loop() {
		buf = tm.UTC().AppendFormat(buf[:0], time.RFC3339Nano)
	}
}
