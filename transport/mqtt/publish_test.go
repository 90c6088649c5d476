package mqtt

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
)

// Each QoS level, with and without the retained flag, delivers to the
// topic the template names, with the session and type escaped.
func TestPublishOptions(t *testing.T) {
	addr := brokerAddr(t)
	cases := []struct {
		qos    QoS
		retain bool
	}{
		{QoS0, false}, {QoS1, false}, {QoS2, false}, {QoS1, true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("qos%s retain=%v", c.qos, c.retain), func(t *testing.T) {
			prefix := uniq("egt/opts-")
			sub := subscribe(t, addr, prefix+"/#")
			tr, err := New(Config{Broker: "tcp://" + addr, Topic: prefix + "/{type}/{session}", QoS: c.qos, Retain: c.retain})
			if err != nil {
				t.Fatal(err)
			}
			defer tr.Close()
			ev := newEvent("user+1#a/b", 1)
			ev.Type = "tool/call"
			if err := tr.Send(t.Context(), ev); err != nil {
				t.Fatal(err)
			}
			got := testutil.AwaitEvents(t, sub.events, []*eventgate.Event{ev}, 10*time.Second)
			testutil.CheckDelivered(t, got, []*eventgate.Event{ev})
			m := sub.messages()[0]
			wantTopic := prefix + "/tool%2Fcall/user%2B1%23a%2Fb"
			if m.topic != wantTopic {
				t.Errorf("topic %q, want %q", m.topic, wantTopic)
			}
			if string(m.payload) != string(eventgate.AppendJSON(nil, ev)) {
				t.Errorf("payload %s is not the event's JSON form", m.payload)
			}
			if c.retain {
				// A new subscriber gets the retained event; then clear it.
				late := subscribe(t, addr, wantTopic)
				testutil.AwaitEvents(t, late.events, []*eventgate.Event{ev}, 10*time.Second)
				if !late.messages()[0].retained {
					t.Error("message to a late subscriber is not flagged retained")
				}
				tok := late.client.Publish(wantTopic, 1, true, []byte{})
				if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
					t.Errorf("clear retained message: %v", tok.Error())
				}
			}
		})
	}
}

// Events that cannot be published fail alone with a permanent error, and
// the connection stays usable.
func TestPublishRejects(t *testing.T) {
	addr := brokerAddr(t)
	prefix := uniq("egt/rej-")
	sub := subscribe(t, addr, prefix+"/#")
	tr, err := New(Config{Broker: "tcp://" + addr, Topic: prefix + "/{session}", MaxMessageSize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := t.Context()
	big := newEvent("r", 0)
	big.Data = []byte(`"` + strings.Repeat("x", 4096) + `"`)
	if err := tr.Send(ctx, big); !errors.Is(err, eventgate.ErrRejected) {
		t.Errorf("oversized message: got %v, want ErrRejected", err)
	}
	bad := newEvent("r", 1)
	bad.Data = []byte(`{"a":`)
	if err := tr.Send(ctx, bad); !errors.Is(err, eventgate.ErrSerialization) {
		t.Errorf("invalid data: got %v, want ErrSerialization", err)
	}
	good := []*eventgate.Event{newEvent("r", 2), newEvent("r", 3)}
	err = tr.SendBatch(ctx, []*eventgate.Event{good[0], big, bad, good[1]})
	var be *eventgate.BatchError
	if !errors.As(err, &be) || len(be.Failed) != 2 || !errors.Is(be.Failed[1], eventgate.ErrRejected) || !errors.Is(be.Failed[2], eventgate.ErrSerialization) {
		t.Fatalf("SendBatch: got %v, want a BatchError failing exactly indexes 1 (rejected) and 2 (serialization)", err)
	}
	got := testutil.AwaitEvents(t, sub.events, good, 10*time.Second)
	testutil.CheckDelivered(t, got, good)
	if len(got) != len(good) {
		t.Errorf("%d messages received, want %d", len(got), len(good))
	}
}

// With no broker listening, Send fails quickly with a retryable connection
// error, and within ReconnectWait of a failure without dialing again.
func TestBrokerUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	tr, err := New(Config{Broker: "tcp://" + addr, ReconnectWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	for i := 0; i < 3; i++ {
		err := tr.Send(t.Context(), newEvent("u", i))
		if !errors.Is(err, eventgate.ErrConnection) || !eventgate.Retryable(err) {
			t.Fatalf("Send %d: got %v, want a retryable ErrConnection", i, err)
		}
	}
	if err := tr.Connect(t.Context()); !errors.Is(err, eventgate.ErrConnection) {
		t.Errorf("Connect: got %v, want ErrConnection", err)
	}
}

// A broker that accepts TCP but never answers: Send gives up with a
// timeout after Config.Timeout, and Close waits for the abandoned attempt
// (ConnectTimeout) so that no goroutine is left behind.
func TestBrokerSilent(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close() // connections wait in the backlog, never served
	tr, err := New(Config{Broker: "tcp://" + ln.Addr().String(), Timeout: 200 * time.Millisecond, ConnectTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = tr.Send(t.Context(), newEvent("q", 0))
	if !errors.Is(err, eventgate.ErrTimeout) {
		t.Errorf("Send: got %v, want ErrTimeout", err)
	}
	if err := tr.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := tr.Send(t.Context(), newEvent("q", 1)); !errors.Is(err, eventgate.ErrClosed) {
		t.Errorf("Send after Close: got %v, want ErrClosed", err)
	}
}

func TestErrorKinds(t *testing.T) {
	connect := []struct {
		err  error
		want eventgate.Kind
	}{
		{packets.ErrorRefusedBadUsernameOrPassword, eventgate.KindUnavailable},
		{packets.ErrorRefusedNotAuthorised, eventgate.KindUnavailable},
		{packets.ErrorRefusedIDRejected, eventgate.KindUnavailable},
		{packets.ErrorRefusedBadProtocolVersion, eventgate.KindUnavailable},
		{packets.ErrorRefusedServerUnavailable, eventgate.KindConnection},
		{fmt.Errorf("%w : %w", packets.ErrorNetworkError, &net.OpError{Op: "dial", Err: errors.New("connection refused")}), eventgate.KindConnection},
		{errors.New("network Error : EOF"), eventgate.KindConnection},
		{&net.DNSError{Err: "timeout", IsTimeout: true}, eventgate.KindTimeout},
	}
	for _, c := range connect {
		if got := connectKind(c.err); got != c.want {
			t.Errorf("connectKind(%v) = %v, want %v", c.err, got, c.want)
		}
	}
	publish := []struct {
		err  error
		want eventgate.Kind
	}{
		{paho.ErrNotConnected, eventgate.KindConnection},
		{errors.New("connection lost before Publish completed"), eventgate.KindConnection},
		{errors.New("publish was broken by timeout"), eventgate.KindTimeout},
	}
	for _, c := range publish {
		if got := publishKind(c.err); got != c.want {
			t.Errorf("publishKind(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
