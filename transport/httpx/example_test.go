package httpx_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport/httpx"
)

// A receiver verifies the signature and decodes the events; the transport
// signs and posts them.
func Example() {
	secret := []byte("shared secret")
	received := make(chan string, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := httpx.Verify(secret, r.Header, body, 5*time.Minute); err != nil {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		evs, err := httpx.Decode(r.Header.Get("Content-Type"), body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, ev := range evs {
			received <- fmt.Sprintf("%s %s %s", ev.SessionID, ev.Type, ev.Data)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	t, err := httpx.New(httpx.Config{URL: srv.URL + "/v1/events", HMACSecret: secret})
	if err != nil {
		panic(err)
	}
	defer t.Close()
	ctx := context.Background()
	err = t.Send(ctx, &eventgate.Event{
		ID: eventgate.NewID(), SessionID: "s-42", Type: "message", Time: time.Now(),
		Data: []byte(`{"text":"hello"}`),
	})
	fmt.Println("send:", err, "|", <-received)
	err = t.SendBatch(ctx, []*eventgate.Event{
		{ID: eventgate.NewID(), SessionID: "s-42", Type: "step", Time: time.Now(), Data: []byte(`{"n":1}`)},
		{ID: eventgate.NewID(), SessionID: "s-43", Type: "step", Time: time.Now(), Data: []byte(`{"n":2}`)},
	})
	fmt.Println("batch:", err, "|", <-received, "|", <-received)
	// Output:
	// send: <nil> | s-42 message {"text":"hello"}
	// batch: <nil> | s-42 step {"n":1} | s-43 step {"n":2}
}
