package mongo

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/configurl"
)

// Transport stores events as documents of one MongoDB collection. It is
// safe for concurrent use.
type Transport struct {
	cfg Config

	mu       sync.Mutex
	client   *mongo.Client
	coll     *mongo.Collection
	indexed  bool
	closed   bool
	inflight sync.WaitGroup
}

var (
	_ eventgate.Transport   = (*Transport)(nil)
	_ eventgate.Connector   = (*Transport)(nil)
	_ eventgate.BatchSender = (*Transport)(nil)
	_ eventgate.Namer       = (*Transport)(nil)
)

// New validates cfg and returns a Transport. It does not connect: Connect,
// or the first Send, does.
func New(cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Transport{cfg: cfg.withDefaults()}, nil
}

// clientOptions builds the driver's options from the configuration. For a
// mongodb+srv URI this resolves the SRV record, so it runs on first use,
// not in New.
func (t *Transport) clientOptions() ([]*options.ClientOptions, error) {
	base := options.Client().ApplyURI(t.cfg.URI)
	if err := base.Validate(); err != nil {
		return nil, err
	}
	if base.AppName == nil {
		base.SetAppName(DefaultAppName)
	}
	if t.cfg.Timeout > 0 {
		if base.ServerSelectionTimeout == nil {
			base.SetServerSelectionTimeout(t.cfg.Timeout)
		}
		if base.ConnectTimeout == nil {
			base.SetConnectTimeout(t.cfg.Timeout)
		}
	}
	opts := []*options.ClientOptions{base}
	if t.cfg.ClientOptions != nil {
		opts = append(opts, t.cfg.ClientOptions)
	}
	return opts, nil
}

// Open parses rawURL (see ParseURL), creates the Transport and connects it.
func Open(ctx context.Context, rawURL string) (*Transport, error) {
	return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
}

// Name returns Config.Name (default "mongo").
func (t *Transport) Name() string { return t.cfg.Name }

// begin registers a call as in flight and returns the collection, creating
// the client on first use. It fails with ErrClosed after Close.
func (t *Transport) begin() (*mongo.Collection, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, eventgate.NewError(t.cfg.Name, eventgate.KindClosed, errors.New("mongo: transport is closed"))
	}
	if t.client == nil {
		// The driver does not dial here; its monitor connects in the
		// background and each operation waits for a server.
		opts, err := t.clientOptions()
		if err != nil {
			// Only the DNS lookup of a mongodb+srv URI can fail here
			// (New validated the rest): retryable.
			return nil, wrapKind(t.cfg.Name, eventgate.KindConnection, "resolve URI", err)
		}
		c, err := mongo.Connect(opts...)
		if err != nil {
			return nil, wrapKind(t.cfg.Name, eventgate.KindRejected, "create client", err)
		}
		t.client = c
		t.coll = c.Database(t.cfg.Database).Collection(t.cfg.Collection)
	}
	t.inflight.Add(1)
	return t.coll, nil
}

// bound applies Config.Timeout to ctx.
func (t *Transport) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if t.cfg.Timeout > 0 {
		return context.WithTimeout(ctx, t.cfg.Timeout)
	}
	return context.WithCancel(ctx)
}

// Connect makes sure a server answers (a ping) and, with CreateIndex,
// creates the index. It is idempotent and safe for concurrent use; each call
// pings again. It fails with a retryable KindConnection or KindTimeout error
// when no server answers within Config.Timeout.
func (t *Transport) Connect(ctx context.Context) error {
	coll, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	ctx, cancel := t.bound(ctx)
	defer cancel()
	if err := coll.Database().Client().Ping(ctx, nil); err != nil {
		return wrap(t.cfg.Name, "ping", err)
	}
	return t.ensureIndex(ctx, coll)
}

// ensureIndex creates the session index once, when configured.
func (t *Transport) ensureIndex(ctx context.Context, coll *mongo.Collection) error {
	if !t.cfg.CreateIndex {
		return nil
	}
	t.mu.Lock()
	done := t.indexed
	t.mu.Unlock()
	if done {
		return nil
	}
	_, err := coll.Indexes().CreateOne(ctx, mongo.IndexModel{
		Keys: bson.D{{Key: FieldSessionID, Value: 1}, {Key: FieldTime, Value: 1}},
	})
	if err != nil {
		return wrap(t.cfg.Name, "create index", err)
	}
	t.mu.Lock()
	t.indexed = true
	t.mu.Unlock()
	t.cfg.Logger.Debug("mongo: index ready", "collection", t.cfg.Collection)
	return nil
}

// encode returns ev's document, or the permanent error that keeps it from
// being stored.
func (t *Transport) encode(ev *eventgate.Event) (bson.Raw, error) {
	doc, err := Encode(ev)
	if err != nil {
		return nil, wrapKind(t.cfg.Name, eventgate.KindSerialization, "encode event "+ev.ID, err)
	}
	if len(doc) > t.cfg.MaxDocumentSize {
		return nil, wrapKind(t.cfg.Name, eventgate.KindRejected, "encode event "+ev.ID,
			fmt.Errorf("document is %d bytes; the limit is %d", len(doc), t.cfg.MaxDocumentSize))
	}
	return doc, nil
}

// Send stores ev as one document (InsertOne) and returns once the server
// acknowledged it under the URI's write concern. A document with the same
// _id already stored (duplicate key, code 11000) counts as delivered: the
// event was stored by an earlier attempt.
func (t *Transport) Send(ctx context.Context, ev *eventgate.Event) error {
	coll, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	if err := ctx.Err(); err != nil {
		return wrap(t.cfg.Name, "insert "+ev.ID, err)
	}
	doc, err := t.encode(ev)
	if err != nil {
		return err
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	if err := t.ensureIndex(ctx, coll); err != nil {
		return err
	}
	_, err = coll.InsertOne(ctx, doc)
	if err == nil || mongo.IsDuplicateKeyError(err) {
		return nil
	}
	return wrap(t.cfg.Name, "insert "+ev.ID, err)
}

// SendBatch stores evs with one unordered InsertMany (the driver splits
// very large batches into several commands). Duplicate keys count as
// delivered. When only some documents fail (an event that cannot be
// encoded, or a write error of one document), it returns a
// *eventgate.BatchError naming each; any other error (network, timeout,
// write concern) concerns the whole batch, which may then be sent again
// without harm.
func (t *Transport) SendBatch(ctx context.Context, evs []*eventgate.Event) error {
	coll, err := t.begin()
	if err != nil {
		return err
	}
	defer t.inflight.Done()
	if len(evs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return wrap(t.cfg.Name, "insert batch", err)
	}
	failed := make(map[int]error)
	docs := make([]any, 0, len(evs))
	at := make([]int, 0, len(evs)) // at[i] is the index in evs of docs[i]
	for i, ev := range evs {
		doc, err := t.encode(ev)
		if err != nil {
			failed[i] = err
			continue
		}
		docs = append(docs, doc)
		at = append(at, i)
	}
	if len(docs) > 0 {
		ctx, cancel := t.bound(ctx)
		defer cancel()
		if err := t.ensureIndex(ctx, coll); err != nil {
			return err
		}
		_, err := coll.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
		if err != nil {
			if werr := t.documentErrors(err, evs, at, failed); werr != nil {
				return werr
			}
		}
	}
	if len(failed) > 0 {
		return &eventgate.BatchError{Failed: failed}
	}
	return nil
}

// documentErrors records in failed the per-document errors of an
// InsertMany error and returns nil, or returns the error for the whole batch
// when err is not only about single documents.
func (t *Transport) documentErrors(err error, evs []*eventgate.Event, at []int, failed map[int]error) error {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil || len(bwe.WriteErrors) == 0 ||
		bwe.HasErrorLabel("NetworkError") {
		return wrap(t.cfg.Name, fmt.Sprintf("insert batch of %d", len(at)), err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(at) {
			return wrap(t.cfg.Name, fmt.Sprintf("insert batch of %d", len(at)), err)
		}
		if isDuplicateKey(we.Code) {
			continue
		}
		i := at[we.Index]
		failed[i] = wrapKind(t.cfg.Name, writeErrorKind(we.WriteError), "insert "+evs[i].ID, we.WriteError)
	}
	return nil
}

// Close waits for in-flight calls, then disconnects (bounded by
// Config.Timeout, default 5s). It is idempotent; afterwards Send, SendBatch
// and Connect return an error matching eventgate.ErrClosed.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	client := t.client
	t.mu.Unlock()
	t.inflight.Wait()
	if client == nil {
		return nil
	}
	timeout := t.cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := client.Disconnect(ctx); err != nil {
		return wrap(t.cfg.Name, "disconnect", err)
	}
	return nil
}
