package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// rawConn posts prepared HTTP/1.1 requests over one keep-alive connection.
// It spends far less CPU per request than net/http's client, which leaves
// the shared CPU to the server being measured.
type rawConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
}

// rawRequest returns the bytes of a POST of body to u's /v1/events.
func rawRequest(host, path, token, ct string, body []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n", path, host, ct, len(body))
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	b.WriteString("\r\n")
	b.Write(body)
	return b.Bytes()
}

func (r *rawConn) close() {
	if r.c != nil {
		_ = r.c.Close()
		r.c = nil
	}
}

// post sends one prepared request and returns the answer's status and body.
func (r *rawConn) post(ctx context.Context, req []byte) (int, []byte, error) {
	if r.c == nil {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", r.addr)
		if err != nil {
			return 0, nil, err
		}
		r.c = c
		if r.br == nil {
			r.br = bufio.NewReaderSize(c, 64<<10)
		} else {
			r.br.Reset(c)
		}
	}
	dl := time.Now().Add(60 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = r.c.SetDeadline(dl)
	if _, err := r.c.Write(req); err != nil {
		r.close()
		return 0, nil, err
	}
	resp, err := http.ReadResponse(r.br, nil)
	if err != nil {
		r.close()
		return 0, nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		r.close()
		return 0, nil, err
	}
	if resp.Close || resp.Header.Get("Connection") == "close" {
		r.close()
	}
	return resp.StatusCode, body, nil
}

// acceptedCount reads n from an answer {"accepted":n,…}.
func acceptedCount(status int, b []byte) (int, error) {
	if status != http.StatusAccepted {
		return 0, fmt.Errorf("status %d: %s", status, bytes.TrimSpace(b[:min(len(b), 200)]))
	}
	rest, ok := bytes.CutPrefix(b, []byte(`{"accepted":`))
	if !ok {
		return 0, fmt.Errorf("unexpected answer %.100s", b)
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	return strconv.Atoi(string(rest[:end]))
}
