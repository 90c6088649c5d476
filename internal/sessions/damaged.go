package sessions

import "context"

// DamagedLine describes session-file lines that readers skip because they are
// not valid entries (a flipped byte, a line cut short and then continued, an
// edit by hand): Lines consecutive lines from Offset. Readers go on with the
// lines after them.
type DamagedLine struct {
	Session  string // the session id
	File     string // the file's name, such as 00000000000000000001.jsonl
	Offset   int64  // byte offset of the first damaged line in the file
	Lines    int    // consecutive damaged lines
	AfterSeq uint64 // seq of the last good line before it in the read; 0: none
	Reason   string // why the first of them is not an entry
}

type damageKey struct{}

// WithDamageReport returns a context under which the Store's readers (Scan,
// Read and Follower.Read) call report for every damaged line they skip, once
// per read that passes it. Without it, damaged lines are skipped silently.
// report is called on the reading goroutine.
func WithDamageReport(ctx context.Context, report func(DamagedLine)) context.Context {
	return context.WithValue(ctx, damageKey{}, report)
}

func reportDamage(ctx context.Context, d DamagedLine) {
	if report, ok := ctx.Value(damageKey{}).(func(DamagedLine)); ok {
		report(d)
	}
}
