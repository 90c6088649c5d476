package eventgate_test

import (
	"fmt"
	"testing"

	"github.com/eventgate/eventgate"
)

// A session is found as soon as Log returns: Session waits for the session
// files and the catalog when they are behind.
func TestReadYourWrites(t *testing.T) {
	dir := t.TempDir()
	g, err := eventgate.Open(dir, eventgate.WithSync(eventgate.SyncNever))
	must(t, err)
	defer g.Close(ctxT(t))
	for i := range 50 {
		id := fmt.Sprintf("ryw-%02d", i)
		must(t, g.Log(ctxT(t), &eventgate.Event{SessionID: id, Type: "t", Data: []byte(`1`)}))
		in, err := g.Session(id)
		if err != nil || in.Count != 1 {
			t.Fatalf("%s right after Log: %+v, %v", id, in, err)
		}
	}
}
