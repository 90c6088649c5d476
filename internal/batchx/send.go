package batchx

import "github.com/eventgate/eventgate"

// SendChunks sends chunks one after the other with send, and keeps the
// per-event failures of a batch in failed, keyed by the index index gives an
// item (its event's place in the batch).
//
// send makes one request. It records in failed the items the system refused
// one by one, and returns whole, the request's error when it failed as a
// whole (SendChunks then records whole for every item of the chunk), and
// stop, whether the later chunks must be held back (always after a whole
// failure; after a single retryable failure where the system keeps order).
// Once stop is reported, the items of every later chunk fail with the error
// held returns, and nothing more is sent.
//
// When the first chunk fails as a whole and complete is true (no item had
// failed before sending, so nothing was accepted at all), SendChunks returns
// that error for the caller to return as is; otherwise it returns nil and
// failed tells the outcome (see Result).
func SendChunks[T any](chunks [][]T, index func(T) int, failed map[int]error, complete bool, held func() error, send func(chunk []T) (stop bool, whole error)) error {
	for n, chunk := range chunks {
		stop, whole := send(chunk)
		if whole != nil {
			if n == 0 && complete {
				return whole
			}
			for _, it := range chunk {
				failed[index(it)] = whole
			}
		}
		if stop {
			err := held()
			for _, rest := range chunks[n+1:] {
				for _, it := range rest {
					failed[index(it)] = err
				}
			}
			break
		}
	}
	return nil
}

// Result is the outcome of a batch whose per-event failures are failed: nil
// when there are none, else an *eventgate.BatchError holding failed.
func Result(failed map[int]error) error {
	if len(failed) == 0 {
		return nil
	}
	return &eventgate.BatchError{Failed: failed}
}
