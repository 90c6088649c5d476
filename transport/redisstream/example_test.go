package redisstream_test

import (
	"context"
	"log"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport/redisstream"
	"github.com/redis/go-redis/v9"
)

// Deliver events through a Gateway route, one stream per session, and read
// them back with DecodeMessage.
func Example() {
	ctx := context.Background()
	t, err := redisstream.New(redisstream.Config{
		Addr:   "127.0.0.1:6379",
		Stream: "events:{session}",
		MaxLen: 100_000,
	})
	if err != nil {
		log.Fatal(err)
	}
	gw, err := eventgate.Open("./logs/sessions", eventgate.WithTransport("redis", t,
		eventgate.RouteBatch(100, 1<<20, 5*time.Millisecond)))
	if err != nil {
		log.Fatal(err)
	}
	defer gw.Close(ctx)
	if err := gw.Log(ctx, &eventgate.Event{SessionID: "s-42", Data: []byte(`{"type":"message","text":"hi"}`)}); err != nil {
		log.Fatal(err)
	}
	if err := gw.Flush(ctx); err != nil {
		log.Fatal(err)
	}

	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer c.Close()
	msgs, err := c.XRange(ctx, "events:s-42", "-", "+").Result()
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range msgs {
		ev, err := redisstream.DecodeMessage(m)
		if err != nil {
			log.Fatal(err)
		}
		log.Printf("%s %s %s", ev.ID, ev.Type, ev.Data)
	}
}
