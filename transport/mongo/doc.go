// Package mongo delivers eventgate events to a MongoDB collection (or any
// server speaking MongoDB's wire protocol, such as FerretDB), one document
// per event, with the official driver (go.mongodb.org/mongo-driver/v2).
//
// # Document layout
//
//	{
//	  "_id":        "<event id>",          // so a re-delivered event is stored once
//	  "session_id": "<session id>",
//	  "type":       "<type>",              // "" when the event has none
//	  "time":       ISODate(…),            // BSON date: milliseconds, UTC
//	  "data":       <Data as BSON>,
//	  "meta":       {<Meta as BSON>}       // absent when Meta is empty
//	}
//
// Data, and Meta (a JSON object, so an embedded document), are stored as the
// BSON equivalent of their JSON, so they can be queried ({"data.tool":
// "search"}, {"meta.temperature": {"$lt": 0.5}}). Whatever its JSON type: an object becomes an
// embedded document (keys in the producer's order), an array a BSON array,
// a string, boolean or null the same BSON value, and empty Data null; no
// wrapping is needed, as a field may hold any BSON value. Numbers take the
// narrowest type that holds them exactly: int32, else int64 for integers,
// else a double. Integers beyond int64 are stored as the nearest double,
// and a number beyond the double range (1e400) makes the event fail with a
// permanent KindSerialization error. A key repeated in one object keeps its
// first place and its last value, as JSON.parse does. Keys of Data and Meta
// are stored through EscapeKey ('.', '%', NUL and a leading '$' are
// percent-encoded), because servers refuse or mis-query such field names;
// plain JSON such as {"$date": 1} is stored as a plain field, never read as
// MongoDB extended JSON. Decode reads a document back into an Event whose
// Data is JSON equivalent to what was sent (numbers and spacing may be
// written differently); Time keeps milliseconds.
//
// # Delivery
//
// Send is one InsertOne, SendBatch one unordered InsertMany. A duplicate-key
// error (code 11000) counts as delivered, since the event is already
// stored. In a batch, each document that fails on its own (a write error, an
// event that cannot be encoded or exceeds MaxDocumentSize) is reported in an
// *eventgate.BatchError; a failure of the whole call (network, timeout,
// write concern) is one error and the batch can be sent again without harm.
//
// Errors map to kinds: no reachable server (server selection) and network
// errors → KindConnection; timeouts → KindTimeout; too-large documents,
// validation, authorization and other per-document write errors →
// KindRejected (permanent); data that is not JSON → KindSerialization.
// While no server is reachable, a Send fails after Config.Timeout (the
// driver's server selection timeout unless the URI sets one) and the driver
// reconnects in the background.
//
// # Usage
//
//	tr, err := mongo.Open(ctx, "mongodb://127.0.0.1:27017/?database=eventgate&collection=events&timeout=5s")
//	if err != nil {
//		return err
//	}
//	gw, err := eventgate.Open("logs/sessions", eventgate.WithTransport("mongo", tr,
//		eventgate.RouteBatch(500, 4<<20, 10*time.Millisecond)))
//	if err != nil {
//		return err
//	}
//	defer gw.Close(context.Background())
//	err = gw.Log(ctx, &eventgate.Event{SessionID: "s-1", Type: "step", Data: []byte(`{"n":1}`)})
//
// Or with a Config:
//
//	tr, err := mongo.New(mongo.Config{
//		URI:         "mongodb://user:pass@db1,db2/?replicaSet=rs0&w=majority",
//		Database:    "eventgate",
//		Collection:  "events",
//		CreateIndex: true, // {session_id: 1, time: 1}
//	})
package mongo
