// Package eventgatetest helps test eventgate transports and the code that uses
// them.
//
// It holds three things:
//
//   - TestTransport, the conformance suite every eventgate.Transport passes.
//     A Harness tells it how to make a fresh transport and how to read back
//     what the downstream received; Features relaxes exactly the checks a
//     system cannot meet (order, metadata, byte-exact data, time precision).
//   - Recorder, an in-memory transport that records what it is given and can
//     be told to fail, for tests of code that sends events.
//   - Flaky, a wrapper that makes another transport fail by a fixed pattern
//     or a seeded probability, for tests of retries and failover.
//
// A transport package runs the suite against its real downstream:
//
//	func TestConformance(t *testing.T) {
//		eventgatetest.TestTransport(t, eventgatetest.Harness{
//			New: func(t testing.TB) (eventgate.Transport, eventgatetest.Fetch) {
//				stream := "test-" + eventgate.NewID()
//				tr, err := redisstream.New(redisstream.Config{Addr: addr, Stream: stream})
//				if err != nil {
//					t.Fatal(err)
//				}
//				t.Cleanup(func() { dropStream(stream) })
//				return tr, func(ctx context.Context) ([]*eventgate.Event, error) {
//					return readStream(ctx, stream)
//				}
//			},
//		})
//	}
//
// The Recorder passes the suite itself, and stands in for a downstream:
//
//	rec := eventgatetest.NewRecorder()
//	rec.FailNext(2, nil) // the next two calls fail with a retryable connection error
//	// ... exercise the code under test with rec ...
//	if err := rec.WaitFor(ctx, 10); err != nil {
//		t.Fatal(err)
//	}
//	events := rec.Events()
package eventgatetest
