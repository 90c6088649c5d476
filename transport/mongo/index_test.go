package mongo

import (
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// With CreateIndex, Connect creates {session_id: 1, time: 1}; a second
// transport on the same collection finds it there and succeeds too.
func TestCreateIndex(t *testing.T) {
	srv := startServer(t)
	obs := newObserver(t, srv.uri())
	coll := uniq("idx_")
	for i := 0; i < 2; i++ {
		tr, err := New(Config{URI: srv.uri(), Database: "eventgate_test", Collection: coll, CreateIndex: true})
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Connect(t.Context()); err != nil {
			t.Fatalf("Connect %d: %v", i+1, err)
		}
		if err := tr.Send(t.Context(), newEvent("idx", i)); err != nil {
			t.Fatalf("Send %d: %v", i+1, err)
		}
		if err := tr.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cur, err := obs.client.Database("eventgate_test").Collection(coll).Indexes().List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var specs []bson.M
	if err := cur.All(t.Context(), &specs); err != nil {
		t.Fatal(err)
	}
	for _, s := range specs {
		if s["name"] == "session_id_1_time_1" {
			return
		}
	}
	t.Errorf("index session_id_1_time_1 not found among %v", specs)
}
