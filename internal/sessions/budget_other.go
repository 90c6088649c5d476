//go:build !unix

package sessions

// OpenBudget returns how many session files a Projector keeps open by
// default.
func OpenBudget() int { return 4096 }
