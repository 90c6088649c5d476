package fakeaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// maxRequestBody bounds what a fake reads from one request.
const maxRequestBody = 16 << 20

// Fault describes one injected failure.
type Fault struct {
	// Status is the HTTP status of the error answer (default 500).
	Status int
	// Code is the error shape name put in "__type", e.g. "RequestThrottled",
	// "ThrottlingException" or "ServiceUnavailableException".
	Code string
	// QueryCode, when set, is sent in the x-amzn-query-error header as
	// "<QueryCode>;Sender" or ";Receiver" (SQS's query-compatible error code).
	QueryCode string
	// Message is the error message (default "injected fault").
	Message string
	// Drop closes the connection without any answer, like a crashed server.
	Drop bool
}

// opFunc handles one decoded operation. It returns the response value (encoded
// as JSON) or an *apiError.
type opFunc func(ctx context.Context, body []byte) (any, *apiError)

// Server is the HTTP front shared by the fakes: it routes by X-Amz-Target,
// checks the protocol headers, injects faults and counts calls.
type Server struct {
	targetPrefix string // "AmazonSQS." or "Logs_20140328."
	contentType  string // "application/x-amz-json-1.0" or "-1.1"
	signingName  string // "sqs" or "logs"
	typePrefix   string // prefix of "__type" values, e.g. "com.amazonaws.sqs#"
	ops          map[string]opFunc

	mu       sync.Mutex
	outage   *Fault
	next     []pendingFault
	calls    map[string]int
	addr     string
	srv      *http.Server
	serveErr chan error
	reqID    atomic.Uint64
}

type pendingFault struct {
	op   string // "" matches every operation
	pass int    // matching requests to let through first
	n    int
	f    Fault
}

func newServer(targetPrefix, contentType, signingName, typePrefix string) *Server {
	return &Server{
		targetPrefix: targetPrefix,
		contentType:  contentType,
		signingName:  signingName,
		typePrefix:   typePrefix,
		ops:          map[string]opFunc{},
		calls:        map[string]int{},
	}
}

// start listens on addr ("127.0.0.1:0" for a fresh port) and serves.
func (s *Server) start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	s.mu.Lock()
	s.addr = ln.Addr().String()
	s.srv = srv
	s.serveErr = done
	s.mu.Unlock()
	return nil
}

// URL is the server's base endpoint, e.g. "http://127.0.0.1:40123".
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "http://" + s.addr
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop closes the listener and every open connection, like a crashed server.
// The fake keeps its state; Restart serves it again on the same address.
// Stop on a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	srv, done := s.srv, s.serveErr
	s.srv, s.serveErr = nil, nil
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Close()
	<-done
}

// Restart serves again on the address used before Stop. It retries for a
// while when the port is still held by the operating system.
func (s *Server) Restart() error {
	addr := s.Addr()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.start(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fakeaws: restart on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Close stops the server for good.
func (s *Server) Close() { s.Stop() }

// FailNext makes the next n requests for operation op (every operation when op
// is "") fail with f. Faults queue up in the order given.
func (s *Server) FailNext(op string, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, pendingFault{op: op, n: n, f: f})
}

// FailAfter lets the next pass requests for op through, then fails the n
// after them with f.
func (s *Server) FailAfter(op string, pass, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, pendingFault{op: op, pass: pass, n: n, f: f})
}

// ClearFaults drops every pending fault and ends an outage.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = nil
	s.outage = nil
}

// SetOutage makes every request fail with *f until SetOutage(nil) is called.
func (s *Server) SetOutage(f *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == nil {
		s.outage = nil
		return
	}
	c := *f
	s.outage = &c
}

// Calls returns how many requests for operation op reached the server,
// including the failed ones.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// fault returns the fault to inject for op, consuming one pending fault.
func (s *Server) fault(op string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op]++
	if s.outage != nil {
		f := *s.outage
		return &f
	}
	for i := range s.next {
		p := &s.next[i]
		if p.op != "" && p.op != op {
			continue
		}
		if p.pass > 0 {
			p.pass--
			return nil
		}
		f := p.f
		p.n--
		if p.n <= 0 {
			s.next = append(s.next[:i], s.next[i+1:]...)
		}
		return &f
	}
	return nil
}

// ServeHTTP implements the AWS JSON protocol front.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		s.writeError(w, &apiError{Status: http.StatusNotFound, Code: "UnknownOperationException", Message: "only POST / is served"})
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, s.targetPrefix)
	handler := s.ops[op]
	if !ok || handler == nil {
		s.writeError(w, &apiError{Status: http.StatusBadRequest, Code: "UnknownOperationException", Message: "unknown operation " + strconv.Quote(target)})
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != s.contentType {
		s.writeError(w, &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: "unexpected Content-Type " + strconv.Quote(ct)})
		return
	}
	if err := s.checkAuth(r); err != nil {
		s.writeError(w, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxRequestBody+1))
	if err != nil {
		return // the client went away
	}
	if len(body) > maxRequestBody {
		s.writeError(w, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "RequestEntityTooLarge", Message: "request body too large"})
		return
	}
	if f := s.fault(op); f != nil {
		s.inject(w, f)
		return
	}
	resp, aerr := handler(r.Context(), body)
	if aerr != nil {
		s.writeError(w, aerr)
		return
	}
	out, err := json.Marshal(resp)
	if err != nil {
		s.writeError(w, &apiError{Status: 500, Code: "InternalFailure", Message: err.Error(), Receiver: true})
		return
	}
	s.header(w)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
}

// checkAuth requires a SigV4 Authorization header scoped to this service. The
// signature itself is not verified.
func (s *Server) checkAuth(r *http.Request) *apiError {
	auth := r.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 Credential=")
	if !ok || r.Header.Get("X-Amz-Date") == "" {
		return &apiError{Status: http.StatusForbidden, Code: "MissingAuthenticationTokenException", QueryCode: "MissingAuthenticationToken", Message: "request is not signed with SigV4"}
	}
	cred, _, _ := strings.Cut(rest, ",")
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[0] == "" || parts[3] != s.signingName || parts[4] != "aws4_request" {
		return &apiError{Status: http.StatusForbidden, Code: "InvalidSignatureException", QueryCode: "SignatureDoesNotMatch", Message: "credential scope " + strconv.Quote(cred) + " is not for " + s.signingName}
	}
	return nil
}

func (s *Server) inject(w http.ResponseWriter, f *Fault) {
	if f.Drop {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				_ = c.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	}
	e := &apiError{Status: f.Status, Code: f.Code, QueryCode: f.QueryCode, Message: f.Message}
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	if e.Code == "" {
		e.Code = "InternalFailure"
	}
	if e.Message == "" {
		e.Message = "injected fault"
	}
	e.Receiver = e.Status >= 500
	s.writeError(w, e)
}

func (s *Server) header(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", s.contentType)
	h.Set("X-Amzn-Requestid", fmt.Sprintf("fake-%08d", s.reqID.Add(1)))
}

// apiError is an error answer in the AWS JSON protocols' shape.
type apiError struct {
	Status    int
	Code      string // shape name
	QueryCode string // SQS query-compatible code, optional
	Receiver  bool   // server-side fault
	Message   string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.header(w)
	if e.QueryCode != "" {
		fault := "Sender"
		if e.Receiver {
			fault = "Receiver"
		}
		w.Header().Set("X-Amzn-Query-Error", e.QueryCode+";"+fault)
	}
	body, _ := json.Marshal(map[string]string{"__type": s.typePrefix + e.Code, "message": e.Message})
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// decode unmarshals a request body, rejecting unknown JSON as the services do
// with a SerializationException.
func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		var se *json.SyntaxError
		msg := err.Error()
		if errors.As(err, &se) {
			msg = "malformed JSON: " + msg
		}
		return &apiError{Status: http.StatusBadRequest, Code: "SerializationException", Message: msg}
	}
	return nil
}

func badRequest(code, queryCode, format string, args ...any) *apiError {
	return &apiError{Status: http.StatusBadRequest, Code: code, QueryCode: queryCode, Message: fmt.Sprintf(format, args...)}
}
