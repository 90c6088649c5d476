package transport

import "github.com/eventgate/eventgate"

// Unavailable returns err as a KindUnavailable error of transport name: the
// endpoint refuses every event (bad credentials, no permission, a missing
// destination, a protocol mismatch), so a route pauses, keeps its events in
// the journal and resumes when the endpoint accepts them again. Use it in a
// transport's error path for failures that are not about one event. A nil
// err stays nil.
func Unavailable(name string, err error) error {
	if err == nil {
		return nil
	}
	return eventgate.NewError(name, eventgate.KindUnavailable, err)
}

// Permanent returns err as a KindRejected error of transport name: this one
// event can never be delivered (too large, refused by a schema), so a route
// dead-letters it and goes on with the next. A nil err stays nil.
func Permanent(name string, err error) error {
	if err == nil {
		return nil
	}
	return eventgate.NewError(name, eventgate.KindRejected, err)
}
