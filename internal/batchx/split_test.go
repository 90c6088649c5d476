package batchx

import (
	"slices"
	"testing"
)

func lens[T any](runs [][]T) []int {
	var n []int
	for _, r := range runs {
		n = append(n, len(r))
	}
	return n
}

func TestSplit(t *testing.T) {
	id := func(n int) int { return n }
	cases := []struct {
		name  string
		items []int
		lim   Limits
		cut   func(first, next int) bool
		want  []int
	}{
		{"none", nil, Limits{MaxItems: 10, MaxBytes: 100}, nil, nil},
		{"fits exactly", []int{50, 50}, Limits{MaxItems: 10, MaxBytes: 100}, nil, []int{2}},
		{"one byte over", []int{50, 51}, Limits{MaxItems: 10, MaxBytes: 100}, nil, []int{1, 1}},
		{"count", []int{1, 1, 1, 1, 1, 1, 1}, Limits{MaxItems: 3, MaxBytes: 100}, nil, []int{3, 3, 1}},
		{"too large alone", []int{500, 1, 1}, Limits{MaxItems: 10, MaxBytes: 100}, nil, []int{1, 2}},
		{"base counts", []int{30, 30, 30}, Limits{MaxItems: 10, MaxBytes: 100, Base: 40}, nil, []int{2, 1}},
		{"cut", []int{1, 2, 3, 10, 11, 25}, Limits{MaxItems: 10, MaxBytes: 1000},
			func(first, next int) bool { return next-first >= 10 }, []int{4, 1, 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			runs := Split(tc.items, tc.lim, id, tc.cut)
			if got := lens(runs); !slices.Equal(got, tc.want) {
				t.Fatalf("run lengths %v, want %v", got, tc.want)
			}
			if got := slices.Concat(runs...); !slices.Equal(got, tc.items) {
				t.Fatalf("runs %v do not hold the items %v in order", runs, tc.items)
			}
		})
	}
}
