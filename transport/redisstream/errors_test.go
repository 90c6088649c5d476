package redisstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/eventgate/eventgate"
	"github.com/redis/go-redis/v9"
)

// replyErr stands for an error reply of the server, as the client reports it.
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

var _ redis.Error = replyErr("")

func TestErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want eventgate.Kind
	}{
		{"OOM", replyErr("OOM command not allowed when used memory > 'maxmemory'."), eventgate.KindThrottled},
		{"BUSY", replyErr("BUSY Redis is busy running a script."), eventgate.KindThrottled},
		{"max clients", replyErr("ERR max number of clients reached"), eventgate.KindThrottled},
		{"LOADING", replyErr("LOADING Redis is loading the dataset in memory"), eventgate.KindConnection},
		{"READONLY", replyErr("READONLY You can't write against a read only replica."), eventgate.KindConnection},
		{"MASTERDOWN", replyErr("MASTERDOWN Link with MASTER is down"), eventgate.KindConnection},
		{"TRYAGAIN", replyErr("TRYAGAIN Multiple keys request during rehashing of slot"), eventgate.KindConnection},
		{"CLUSTERDOWN", replyErr("CLUSTERDOWN The cluster is down"), eventgate.KindConnection},
		{"MISCONF", replyErr("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."), eventgate.KindConnection},
		{"NOREPLICAS", replyErr("NOREPLICAS Not enough good replicas to write."), eventgate.KindConnection},
		{"WRONGTYPE", replyErr("WRONGTYPE Operation against a key holding the wrong kind of value"), eventgate.KindUnavailable},
		{"NOAUTH", replyErr("NOAUTH Authentication required."), eventgate.KindUnavailable},
		{"WRONGPASS", replyErr("WRONGPASS invalid username-password pair or user is disabled."), eventgate.KindUnavailable},
		{"NOPERM", replyErr("NOPERM User u has no permissions to run the 'xadd' command"), eventgate.KindUnavailable},
		{"ERR argument", replyErr("ERR The ID specified in XADD is equal or smaller than the target stream top item"), eventgate.KindRejected},
		{"unknown reply", replyErr("SOMETHINGNEW happened"), eventgate.KindRejected},
		{"wrapped reply", fmt.Errorf("pipeline: %w", replyErr("OOM command not allowed")), eventgate.KindThrottled},
		{"EOF", io.EOF, eventgate.KindConnection},
		{"unexpected EOF", io.ErrUnexpectedEOF, eventgate.KindConnection},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}, eventgate.KindConnection},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, eventgate.KindConnection},
		{"socket timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, eventgate.KindTimeout},
		{"ctx deadline", context.DeadlineExceeded, eventgate.KindTimeout},
		{"untrusted certificate", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, eventgate.KindConnection},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, eventgate.KindConnection},
		{"pool timeout", redis.ErrPoolTimeout, eventgate.KindTimeout},
		{"client closed", redis.ErrClosed, eventgate.KindClosed},
		{"ctx cancelled", context.Canceled, eventgate.KindUnknown},
		{"other", errors.New("something else"), eventgate.KindUnknown},
	}
	tr := &Transport{cfg: Config{Name: "redis-x"}.withDefaults()}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tr.wrap("xadd s", tt.err)
			var te *eventgate.TransportError
			if !errors.As(err, &te) {
				t.Fatalf("wrap returned %T, want *eventgate.TransportError", err)
			}
			if te.Kind != tt.want {
				t.Errorf("kind = %v, want %v (err %v)", te.Kind, tt.want, tt.err)
			}
			if te.Transport != "redis-x" {
				t.Errorf("Transport = %q, want redis-x", te.Transport)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("the cause is not kept in the chain: %v", err)
			}
			if !strings.Contains(err.Error(), "redisstream: xadd s: ") {
				t.Errorf("message %q lacks the operation", err)
			}
			if got, want := eventgate.Retryable(err), tt.want.Retryable(); got != want {
				t.Errorf("Retryable = %v, want %v", got, want)
			}
		})
	}
	if tr.wrap("x", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}

// TestServerErrors provokes real error replies and failures from the server
// and checks how Send reports them.
func TestServerErrors(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()

	t.Run("WRONGTYPE", func(t *testing.T) {
		key := uniqueName("egtest")
		dropKeys(t, c, key)
		if err := c.Set(ctx, key, "not a stream", 0).Err(); err != nil {
			t.Fatal(err)
		}
		tr := newTransport(t, Config{Addr: addr, Stream: key})
		err := tr.Send(ctx, testEvent("s", 0))
		if !errors.Is(err, eventgate.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGTYPE") {
			t.Fatalf("Send to a string key: %v, want KindUnavailable naming WRONGTYPE", err)
		}
	})

	t.Run("WRONGPASS", func(t *testing.T) {
		tr := newTransport(t, Config{Addr: addr, Username: uniqueName("egtest-nouser"), Password: "wrong"})
		err := tr.Connect(ctx)
		if !errors.Is(err, eventgate.ErrUnavailable) || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Fatalf("Connect with a wrong password: %v, want KindUnavailable naming WRONGPASS", err)
		}
		if err := tr.Send(ctx, testEvent("s", 0)); !errors.Is(err, eventgate.ErrUnavailable) {
			t.Fatalf("Send with a wrong password: %v, want KindUnavailable", err)
		}
	})

	t.Run("NOPERM", func(t *testing.T) {
		user := uniqueName("egtest-user")
		if err := c.Do(ctx, "ACL", "SETUSER", user, "on", ">pw", "~*", "+ping", "+hello", "+client").Err(); err != nil {
			t.Skipf("cannot create an ACL user: %v", err)
		}
		t.Cleanup(func() { c.Do(context.Background(), "ACL", "DELUSER", user) })
		key := uniqueName("egtest")
		dropKeys(t, c, key)
		tr := newTransport(t, Config{Addr: addr, Username: user, Password: "pw", Stream: key})
		if err := tr.Connect(ctx); err != nil {
			t.Fatalf("Connect as a user allowed to PING: %v", err)
		}
		err := tr.Send(ctx, testEvent("s", 0))
		if !errors.Is(err, eventgate.ErrUnavailable) || !strings.Contains(err.Error(), "NOPERM") {
			t.Fatalf("XADD without permission: %v, want KindUnavailable naming NOPERM", err)
		}
	})

	t.Run("refused", func(t *testing.T) {
		tr := newTransport(t, Config{Addr: closedAddr(t), Timeout: 2 * time.Second})
		err := tr.Connect(ctx)
		if !errors.Is(err, eventgate.ErrConnection) || !eventgate.Retryable(err) {
			t.Fatalf("Connect to a closed port: %v, want a retryable connection error", err)
		}
		err = tr.SendBatch(ctx, []*eventgate.Event{testEvent("s", 0), testEvent("s", 1)})
		var be *eventgate.BatchError
		if errors.As(err, &be) || !errors.Is(err, eventgate.ErrConnection) {
			t.Fatalf("SendBatch to a closed port: %v, want a connection error for the whole batch", err)
		}
	})

	t.Run("timeout", func(t *testing.T) {
		silent, _ := silentServer(t)
		tr := newTransport(t, Config{Addr: silent, Timeout: 200 * time.Millisecond, MaxRetries: -1})
		err := tr.Send(ctx, testEvent("s", 0))
		if !errors.Is(err, eventgate.ErrTimeout) || !eventgate.Retryable(err) {
			t.Fatalf("Send to a server that never answers: %v, want a retryable timeout", err)
		}
	})

	t.Run("serialization", func(t *testing.T) {
		tr := newTransport(t, Config{Addr: addr})
		bad := testEvent("s", 0)
		bad.Data = []byte(`{"unterminated":`)
		for name, err := range map[string]error{
			"Send":      tr.Send(ctx, bad),
			"Send nil":  tr.Send(ctx, nil),
			"SendBatch": tr.SendBatch(ctx, []*eventgate.Event{testEvent("s", 1), bad}),
		} {
			if !errors.Is(err, eventgate.ErrSerialization) || eventgate.Retryable(err) {
				t.Errorf("%s of invalid data: %v, want a permanent serialization error", name, err)
			}
		}
	})
}

// TestBatchPartialFailure checks that a pipelined batch reports exactly the
// events the server refused and appends the others.
func TestBatchPartialFailure(t *testing.T) {
	addr := redisAddr(t)
	c := admin(t, addr)
	ctx := t.Context()
	prefix := uniqueName("egtest")
	dropKeys(t, c, prefix+":*")
	if err := c.Set(ctx, prefix+":bad", "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	tr := newTransport(t, Config{Addr: addr, Stream: prefix + ":{session}"})
	evs := []*eventgate.Event{
		testEvent("good", 0), testEvent("bad", 1), testEvent("good", 2), testEvent("bad", 3), testEvent("good", 4),
	}
	err := tr.SendBatch(ctx, evs)
	var be *eventgate.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("SendBatch: %v, want a *eventgate.BatchError", err)
	}
	if len(be.Failed) != 2 || be.ErrorAt(1) == nil || be.ErrorAt(3) == nil {
		t.Fatalf("failed events %v, want exactly 1 and 3", be.Failed)
	}
	if !errors.Is(be.ErrorAt(1), eventgate.ErrUnavailable) {
		t.Errorf("event 1: %v, want KindUnavailable (WRONGTYPE)", be.ErrorAt(1))
	}
	got, err := readStreams(ctx, c, prefix+":good")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != evs[0].ID || got[1].ID != evs[2].ID || got[2].ID != evs[4].ID {
		t.Fatalf("the accepted events were not all appended in order: %d entries", len(got))
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

// silentServer accepts connections, reads what they send and never answers;
// everything stops at cleanup. The channel is closed when the first bytes
// arrive.
func silentServer(t *testing.T) (string, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		conns    []net.Conn
		wg       sync.WaitGroup
		gotBytes = make(chan struct{})
		once     sync.Once
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 4096)
				for {
					if _, err := conn.Read(buf); err != nil {
						return
					}
					once.Do(func() { close(gotBytes) })
				}
			}()
		}
	}()
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String(), gotBytes
}
