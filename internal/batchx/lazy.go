package batchx

import (
	"sync"
	"sync/atomic"
)

// Lazy holds a value made on first use, such as a transport's connection:
// Get makes it once and returns the same value from then on, without a lock
// once it exists. When creating it fails, nothing is kept and the next Get
// tries again. The zero value is empty. It is safe for concurrent use.
type Lazy[T any] struct {
	mu sync.Mutex // serializes makers
	v  atomic.Pointer[T]
}

// Load returns the value, or nil when none was made yet.
func (l *Lazy[T]) Load() *T { return l.v.Load() }

// Get returns the value, calling create to make it when there is none. One
// create runs at a time; callers that wait for it get its value. create's error
// is returned as is, and its value kept only when the error is nil.
func (l *Lazy[T]) Get(create func() (*T, error)) (*T, error) {
	if v := l.v.Load(); v != nil {
		return v, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if v := l.v.Load(); v != nil {
		return v, nil
	}
	v, err := create()
	if err != nil {
		return nil, err
	}
	l.v.Store(v)
	return v, nil
}
