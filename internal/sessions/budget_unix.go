//go:build unix

package sessions

import "golang.org/x/sys/unix"

// OpenBudget returns how many session files a Projector keeps open by
// default: three quarters of what RLIMIT_NOFILE's soft limit leaves after
// 1,024 descriptors kept for the journal, the catalog and network
// connections, and at least 64. (The Go runtime raises the soft limit to the
// hard limit at start.) With the common limit of 1,048,576 that is 785,664;
// with 20,000 it is 14,232.
func OpenBudget() int {
	var r unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &r); err != nil || r.Cur == unix.RLIM_INFINITY {
		return 1 << 16
	}
	n := int64(r.Cur)
	return int(max(64, min((n-1024)*3/4, 1<<20)))
}
