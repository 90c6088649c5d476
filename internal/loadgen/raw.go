package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"
)

// rawConn posts prepared HTTP/1.1 requests over one keep-alive connection
// and parses the answers itself. It spends far less CPU per request than
// net/http's client, which leaves the shared CPU to the server measured.
type rawConn struct {
	addr string
	c    net.Conn
	br   *bufio.Reader
	body []byte
}

// rawRequest returns the bytes of a POST of body to path.
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

// post sends one prepared request and returns the answer's status and body
// (valid until the next post).
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
	status, body, keep, err := r.readResponse()
	if err != nil {
		r.close()
		return 0, nil, err
	}
	if !keep {
		r.close()
	}
	return status, body, nil
}

var errBadResponse = errors.New("loadgen: malformed HTTP response")

// readResponse reads one HTTP/1.1 response: its status, its body (by
// Content-Length or chunked), and whether the connection stays open.
func (r *rawConn) readResponse() (status int, body []byte, keep bool, err error) {
	line, err := r.br.ReadSlice('\n')
	if err != nil {
		return 0, nil, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, nil, false, errBadResponse
	}
	if status, err = strconv.Atoi(string(line[9:12])); err != nil {
		return 0, nil, false, errBadResponse
	}
	length, chunked, keep := -1, false, true
	for {
		h, err := r.br.ReadSlice('\n')
		if err != nil {
			return 0, nil, false, err
		}
		h = bytes.TrimRight(h, "\r\n")
		if len(h) == 0 {
			break
		}
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			return 0, nil, false, errBadResponse
		}
		v = bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(v)); err != nil {
				return 0, nil, false, errBadResponse
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			chunked = bytes.EqualFold(v, []byte("chunked"))
		case bytes.EqualFold(k, []byte("Connection")):
			keep = !bytes.EqualFold(v, []byte("close"))
		}
	}
	r.body = r.body[:0]
	switch {
	case chunked:
		b := bytes.NewBuffer(r.body)
		if _, err := b.ReadFrom(httputil.NewChunkedReader(r.br)); err != nil {
			return 0, nil, false, err
		}
		// the trailer section ends with an empty line
		for {
			t, err := r.br.ReadSlice('\n')
			if err != nil {
				return 0, nil, false, err
			}
			if len(bytes.TrimRight(t, "\r\n")) == 0 {
				break
			}
		}
		r.body = b.Bytes()
	case length >= 0:
		if cap(r.body) < length {
			r.body = make([]byte, length)
		}
		r.body = r.body[:length]
		if _, err := io.ReadFull(r.br, r.body); err != nil {
			return 0, nil, false, err
		}
	default:
		return 0, nil, false, errBadResponse // no length: would need the connection's end
	}
	return status, r.body, keep, nil
}

// acceptedCount reads n from an answer {"accepted":n,…}.
func acceptedCount(status int, b []byte) (int, error) {
	if status != http.StatusOK {
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
