package batchx

// Limits bound one request of a batch.
type Limits struct {
	// MaxItems is the most items in one request.
	MaxItems int
	// MaxBytes is the most bytes of one request: Base plus the sizes of
	// its items.
	MaxBytes int
	// Base is what a request costs before any item (0 when only the items
	// count).
	Base int
}

// Split cuts items, in order, into runs that keep within lim: a new run
// starts at an item when the current run already holds lim.MaxItems items,
// when the item's size would take the run past lim.MaxBytes, or when
// cut(first item of the run, item) reports true (cut may be nil). A run
// always holds at least one item, so an item too large on its own makes a
// run of its own. The runs share items' backing array. Split returns nil for
// no items.
func Split[T any](items []T, lim Limits, size func(T) int, cut func(first, next T) bool) [][]T {
	var runs [][]T
	start, total := 0, lim.Base
	for i, it := range items {
		n := size(it)
		if i > start && (i-start == lim.MaxItems || total+n > lim.MaxBytes || (cut != nil && cut(items[start], it))) {
			runs = append(runs, items[start:i])
			start, total = i, lim.Base
		}
		total += n
	}
	if start < len(items) {
		runs = append(runs, items[start:])
	}
	return runs
}
