package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/internal/testutil"
	"github.com/eventgate/eventgate/transport/postgres"
)

// dropProxy forwards HTTP/1.1 connections to target, one request each, and
// on every nth connection forwards the request, waits for the server's
// answer, and closes the client's connection without passing it on: the
// server has recorded the events, the client sees a dropped connection.
type dropProxy struct {
	ln      net.Listener
	target  string
	nth     int64
	conns   atomic.Int64
	dropped atomic.Int64
	wg      sync.WaitGroup
}

func newDropProxy(t *testing.T, target string, nth int64) *dropProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &dropProxy{ln: ln, target: target, nth: nth}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n := p.conns.Add(1)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.serve(c, n%p.nth == 0)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		p.wg.Wait()
	})
	return p
}

func (p *dropProxy) serve(c net.Conn, drop bool) {
	defer c.Close()
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer up.Close()
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return
	}
	req.Close = true // one request per connection
	if err := req.Write(up); err != nil {
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(up), req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if drop {
		_, _ = io.Copy(io.Discard, resp.Body)
		p.dropped.Add(1)
		return // the answer is lost
	}
	_ = resp.Write(c)
}

// postWithRetry posts body until it is answered 200, retrying dropped
// connections and 5xx answers.
func postWithRetry(ctx context.Context, client *http.Client, url string, body []byte) (IngestResult, int, error) {
	var last error
	for attempt := 0; attempt < 20; attempt++ {
		req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
		if err != nil {
			return IngestResult{}, attempt, err
		}
		req.Header.Set("Authorization", "Bearer "+ingestToken)
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			last = err
			continue
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			last = err
			continue
		}
		if resp.StatusCode >= 500 {
			last = fmt.Errorf("status %d: %s", resp.StatusCode, b)
			continue
		}
		var res IngestResult
		if err := json.Unmarshal(b, &res); err != nil {
			return res, attempt, fmt.Errorf("answer %q: %w", b, err)
		}
		if resp.StatusCode != 200 {
			return res, attempt, fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		return res, attempt, nil
	}
	return IngestResult{}, 20, fmt.Errorf("gave up: %w", last)
}

type served struct {
	gw   *eventgate.Gateway
	hs   *http.Server
	url  string
	done chan struct{}
}

func serveDedup(t *testing.T, dir, pgURL, table string) *served {
	t.Helper()
	tr, err := postgres.New(postgres.Config{URL: pgURL, Table: table, CreateTable: true})
	if err != nil {
		t.Fatal(err)
	}
	gw, err := eventgate.Open(dir, eventgate.WithTransport("pg", tr))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(gw, Options{Tokens: []Token{mustToken(t, "ingest", ingestToken, ScopeIngest)}})
	if err != nil {
		t.Fatal(err)
	}
	hs := srv.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &served{gw: gw, hs: hs, url: ln.Addr().String(), done: make(chan struct{})}
	go func() { defer close(s.done); _ = hs.Serve(ln) }()
	return s
}

func (s *served) close(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = s.hs.Shutdown(ctx)
	<-s.done
	if err := s.gw.Close(ctx); err != nil {
		t.Errorf("gateway close: %v", err)
	}
}

// TestIngestTwiceThroughDroppingProxyStoresOnce posts 10,000 events twice,
// concurrently, through a proxy that drops every 5th connection's answer,
// with retries; then restarts the Gateway and posts them all again. Each
// event is in its session file once and in PostgreSQL once.
func TestIngestTwiceThroughDroppingProxyStoresOnce(t *testing.T) {
	pgAddr := testutil.Service(t, "PostgreSQL", "EVENTGATE_POSTGRES_ADDR", "127.0.0.1:5432")
	pgURL := "postgres://postgres@" + pgAddr + "/test?sslmode=disable"
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	table := "egt_dedup_" + hex.EncodeToString(rnd[:])
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	pg, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := pg.Exec(context.Background(), "DROP TABLE IF EXISTS "+pgx.Identifier{table}.Sanitize()); err != nil {
			t.Errorf("drop table: %v", err)
		}
		_ = pg.Close(context.Background())
	}()

	const events, perBatch, sessions = 10_000, 100, 20
	batches := make([][]byte, 0, events/perBatch)
	for b := range events / perBatch {
		var buf bytes.Buffer
		buf.WriteByte('[')
		for i := range perBatch {
			n := b*perBatch + i
			if i > 0 {
				buf.WriteByte(',')
			}
			fmt.Fprintf(&buf, `{"id":"ev-%05d","session_id":"dd-%02d","type":"t","data":{"n":%d}}`, n, n%sessions, n)
		}
		buf.WriteByte(']')
		batches = append(batches, buf.Bytes())
	}

	dir := t.TempDir()
	s := serveDedup(t, dir, pgURL, table)
	proxy := newDropProxy(t, s.url, 5)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()

	postAll := func(reverse bool, workers int) (dups, retries int64) {
		var wg sync.WaitGroup
		next := atomic.Int64{}
		var d, r atomic.Int64
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					k := int(next.Add(1) - 1)
					if k >= len(batches) {
						return
					}
					if reverse {
						k = len(batches) - 1 - k
					}
					res, attempts, err := postWithRetry(ctx, client, "http://"+proxy.ln.Addr().String()+"/v1/events", batches[k])
					if err != nil {
						t.Errorf("batch %d: %v", k, err)
						return
					}
					if res.Accepted != perBatch {
						t.Errorf("batch %d: accepted %d", k, res.Accepted)
					}
					d.Add(int64(res.Duplicates))
					r.Add(int64(attempts))
				}
			}()
		}
		wg.Wait()
		return d.Load(), r.Load()
	}

	// Two producers post everything at once, in opposite orders.
	var wg sync.WaitGroup
	var dups, retries [2]int64
	for p := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dups[p], retries[p] = postAll(p == 1, 3)
		}()
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	if proxy.dropped.Load() == 0 || retries[0]+retries[1] == 0 {
		t.Fatalf("the proxy dropped %d answers, %d retries: the test did not test retries", proxy.dropped.Load(), retries[0]+retries[1])
	}
	// Every event was recorded by one producer and answered as a duplicate
	// to the other (or to a retry).
	if total := dups[0] + dups[1]; total < events {
		t.Fatalf("%d duplicates answered, want at least %d", total, events)
	}
	t.Logf("first round: %d connections, %d answers dropped, %d retries, %d duplicates answered",
		proxy.conns.Load(), proxy.dropped.Load(), retries[0]+retries[1], dups[0]+dups[1])
	checkStoredOnce(ctx, t, s.gw, pg, table, events, sessions)
	if st := s.gw.Stats(); st.Logged != events {
		t.Fatalf("logged %d, want %d", st.Logged, events)
	}

	// Restart inside the window: every event is a duplicate.
	s.close(t)
	s = serveDedup(t, dir, pgURL, table)
	defer s.close(t)
	proxy = newDropProxy(t, s.url, 5)
	d, _ := postAll(false, 4)
	if d != events {
		t.Fatalf("after the restart: %d duplicates answered, want %d", d, events)
	}
	if st := s.gw.Stats(); st.Logged != 0 {
		t.Fatalf("after the restart: %d events recorded again", st.Logged)
	}
	checkStoredOnce(ctx, t, s.gw, pg, table, events, sessions)
}

func checkStoredOnce(ctx context.Context, t *testing.T, gw *eventgate.Gateway, pg *pgx.Conn, table string, events, sessions int) {
	t.Helper()
	if err := gw.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	seen := make(map[string]int, events)
	for s := range sessions {
		evs, err := gw.Events(ctx, fmt.Sprintf("dd-%02d", s), eventgate.EventFilter{})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			seen[e.ID]++
		}
	}
	if len(seen) != events {
		t.Fatalf("session files hold %d distinct ids, want %d", len(seen), events)
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("session files hold %s %d times", id, n)
		}
	}
	var rows, distinct int
	err := pg.QueryRow(ctx, "SELECT count(*), count(DISTINCT event_id) FROM "+pgx.Identifier{table}.Sanitize()).Scan(&rows, &distinct)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatal(err)
	}
	if rows != events || distinct != events {
		t.Fatalf("PostgreSQL holds %d rows, %d distinct ids; want %d", rows, distinct, events)
	}
}
