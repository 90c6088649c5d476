package server

import (
	"errors"
	"net/http"
	"syscall"
)

// storageAnswer returns the status and the message of an answer to a request
// the journal could not record: 507 for a full disk, 503 for any other
// storage failure. The message names the condition, never a server path.
func storageAnswer(err error) (int, string) {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return http.StatusInsufficientStorage, "the journal cannot write: no space left on the device; retry later"
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return http.StatusServiceUnavailable, "the journal cannot write: " + errno.Error() + "; retry later"
	}
	return http.StatusServiceUnavailable, "the journal cannot write; retry later"
}
