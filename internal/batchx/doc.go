// Package batchx holds the bookkeeping transports share around their sends:
// a Gate that counts in-flight calls and lets Close wait for them, a Lazy
// connection made by the first call that needs it, CallContext to bound one
// call by the configured timeout, Split to cut a batch into requests within
// a system's limits, and SendChunks to send those requests in order, holding
// back the later ones after a failure so a retry keeps each session's order.
// It depends on the standard library and the root eventgate package only.
//
// A transport's SendBatch uses it like this:
//
//	func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
//		if !t.gate.Enter() {
//			return eventgate.NewError(t.Name(), eventgate.KindClosed, errClosed)
//		}
//		defer t.gate.Leave()
//		failed := map[int]error{}
//		items := t.encodeAll(evs, failed) // items that cannot be sent fail alone
//		chunks := batchx.Split(items, batchx.Limits{MaxItems: 10, MaxBytes: 1 << 20}, item.size, nil)
//		held := func() error { return eventgate.NewError(t.Name(), eventgate.KindUnknown, errNotSent) }
//		err := batchx.SendChunks(chunks, item.idx, failed, len(items) == len(evs), held,
//			func(chunk []item) (bool, error) {
//				err := t.call(ctx, chunk, failed) // records single failures in failed
//				return err != nil, err
//			})
//		if err != nil {
//			return err
//		}
//		return batchx.Result(failed)
//	}
//
// and its Close:
//
//	func (t *Transport) Close() error {
//		if !t.gate.Close() {
//			return nil // closed before
//		}
//		return t.release() // no call is in flight any more
//	}
package batchx
