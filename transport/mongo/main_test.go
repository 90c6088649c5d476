package mongo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
	"go.uber.org/goleak"

	"github.com/eventgate/eventgate"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server is an embedded FerretDB (MongoDB wire protocol over SQLite) that a
// test starts, stops and starts again on the same address and data.
type server struct {
	tb     testing.TB
	dir    string // SQLite files; they outlive a restart
	addr   string // host:port, fixed after the first start
	cancel context.CancelFunc
	done   chan struct{}
}

// startServer starts an embedded FerretDB on a free loopback port with its
// data in a fresh temporary directory, and stops it when the test ends.
func startServer(tb testing.TB) *server {
	tb.Helper()
	s := &server{tb: tb, dir: tb.TempDir(), addr: "127.0.0.1:0"}
	s.start()
	tb.Cleanup(s.stop)
	return s
}

// start runs FerretDB on s.addr; after the first start the port is fixed, so
// a restart listens where clients already point.
func (s *server) start() {
	s.tb.Helper()
	level := slog.LevelError + 4 // FerretDB logs connection failures at error level; keep test output clean
	if testing.Verbose() && os.Getenv("EVENTGATE_FERRETDB_LOG") != "" {
		level = slog.LevelInfo
	}
	var (
		f   *ferretdb.FerretDB
		err error
	)
	// After a stop, the port can stay busy for a moment while the old
	// listener's close finishes; retry briefly.
	deadline := time.Now().Add(10 * time.Second)
	for {
		f, err = ferretdb.New(&ferretdb.Config{
			Listener:  ferretdb.ListenerConfig{TCP: s.addr},
			Handler:   "sqlite",
			SQLiteURL: "file:" + s.dir + "/",
			Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
		})
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		s.tb.Fatalf("start FerretDB on %s: %v", s.addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		_ = f.Run(ctx)
	}()
	// MongoDBURI is mongodb://host:port/
	uri := f.MongoDBURI()
	s.addr = uri[len("mongodb://") : len(uri)-1]
}

// stop shuts FerretDB down, closing every client connection, and waits for
// it. Stopping a stopped server does nothing.
func (s *server) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

// uri is the connection string of the server.
func (s *server) uri() string { return "mongodb://" + s.addr + "/" }

// uniq returns a name unique to one test.
func uniq(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// observer is the test's own client, used to read collections back.
type observer struct {
	client *mongo.Client
}

func newObserver(tb testing.TB, uri string) *observer {
	tb.Helper()
	// One connection: FerretDB keeps a cursor on the connection that opened
	// it, and the driver may send getMore on another one of its pool.
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second).SetMaxPoolSize(1))
	if err != nil {
		tb.Fatalf("observer: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = c.Disconnect(ctx)
	})
	return &observer{client: c}
}

// raw returns every document of db.coll in natural (insertion) order.
func (o *observer) raw(ctx context.Context, db, coll string) ([]bson.Raw, error) {
	cur, err := o.client.Database(db).Collection(coll).Find(ctx, bson.D{})
	if err != nil {
		return nil, err
	}
	var docs []bson.Raw
	if err := cur.All(ctx, &docs); err != nil {
		return nil, err
	}
	return docs, nil
}

// events returns the events stored in db.coll in natural order.
func (o *observer) events(ctx context.Context, db, coll string) ([]*eventgate.Event, error) {
	docs, err := o.raw(ctx, db, coll)
	if err != nil {
		return nil, err
	}
	evs := make([]*eventgate.Event, len(docs))
	for i, d := range docs {
		if evs[i], err = Decode(d); err != nil {
			return nil, fmt.Errorf("document %d: %w", i, err)
		}
	}
	return evs, nil
}

// newEvent returns a small test event.
func newEvent(session string, i int) *eventgate.Event {
	return &eventgate.Event{
		ID:        eventgate.NewID(),
		SessionID: session,
		Type:      "test.step",
		Time:      time.Now(),
		Data:      []byte(fmt.Sprintf(`{"i":%d,"session":%q}`, i, session)),
		Meta:      eventgate.StringMeta(map[string]string{"n": fmt.Sprint(i)}),
	}
}
