// Package fakegcplogging is an in-process gRPC server implementing the
// WriteLogEntries call of Cloud Logging's google.logging.v2.LoggingServiceV2,
// so that eventgate's tests can drive the official Go client against it.
//
// It validates requests as Cloud Logging documents it for the limits the
// gcplogging transport relies on (log name format, a monitored resource,
// 256 KiB per entry, 64 labels per entry, 10 MB per request), honours
// partial_success by writing the valid entries and reporting the others in
// WriteLogEntriesPartialErrors, drops entries whose insertId and timestamp
// repeat an earlier entry of the same log (as the service de-duplicates), and
// records what it accepted. It can inject gRPC errors (with a RetryInfo
// delay), fail single entries, and be stopped and restarted on its address.
// It is not an emulator: no other call is implemented and nothing is
// persisted.
package fakegcplogging

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	rpcstatus "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Cloud Logging limits the server enforces.
const (
	MaxEntryBytes   = 256 << 10 // size of one LogEntry (the service's limit is approximate)
	MaxLabels       = 64        // labels per LogEntry
	MaxRequestBytes = 10 << 20  // size of one WriteLogEntries request
	maxLogIDLen     = 512
)

var logNameRE = regexp.MustCompile(`^(projects|organizations|billingAccounts|folders)/([^/]+)/logs/([^/]+)$`)

// Fault is an injected failure of a whole WriteLogEntries call.
type Fault struct {
	Code       codes.Code
	Message    string
	RetryAfter time.Duration // sent as a google.rpc.RetryInfo detail when > 0
}

// Request describes one WriteLogEntries call that passed request validation.
type Request struct {
	Entries        int
	Bytes          int // proto size of the request
	PartialSuccess bool
}

// Server is the fake Logging service.
type Server struct {
	loggingpb.UnimplementedLoggingServiceV2Server

	mu         sync.Mutex
	addr       string
	grpc       *grpc.Server
	served     chan struct{}
	entries    []*loggingpb.LogEntry
	seen       map[string]bool
	requests   []Request
	calls      int
	outage     *Fault
	next       []pendingFault
	entryFault func(*loggingpb.LogEntry) *status.Status
	discard    bool
}

type pendingFault struct {
	pass, n int
	f       Fault
}

// Start serves on 127.0.0.1 and stops the server when tb ends.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{seen: map[string]bool{}}
	if err := s.listen("127.0.0.1:0"); err != nil {
		tb.Fatalf("fakegcplogging: %v", err)
	}
	tb.Cleanup(s.Stop)
	return s
}

func (s *Server) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	g := grpc.NewServer(grpc.MaxRecvMsgSize(MaxRequestBytes + 1<<20))
	loggingpb.RegisterLoggingServiceV2Server(g, s)
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = g.Serve(ln)
	}()
	s.mu.Lock()
	s.addr, s.grpc, s.served = ln.Addr().String(), g, served
	s.mu.Unlock()
	return nil
}

// Addr is the server's host:port.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Stop closes the listener and every connection at once, like a crash. The
// recorded entries stay; Restart serves again on the same address.
func (s *Server) Stop() {
	s.mu.Lock()
	g, served := s.grpc, s.served
	s.grpc, s.served = nil, nil
	s.mu.Unlock()
	if g == nil {
		return
	}
	g.Stop()
	<-served
}

// Restart serves again on the address used before Stop.
func (s *Server) Restart() error {
	addr := s.Addr()
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := s.listen(addr)
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("fakegcplogging: restart on %s: %w", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// FailNext makes the next n calls fail with f.
func (s *Server) FailNext(n int, f Fault) { s.FailAfter(0, n, f) }

// FailAfter lets pass calls through, then fails the n after them with f.
func (s *Server) FailAfter(pass, n int, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = append(s.next, pendingFault{pass: pass, n: n, f: f})
}

// ClearFaults drops pending faults and ends an outage.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next, s.outage = nil, nil
}

// SetOutage makes every call fail with *f until SetOutage(nil).
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

// SetEntryFault installs fn, called for every entry that passed validation;
// a non-nil status fails that entry (reported per entry under
// partial_success, failing the whole call otherwise).
func (s *Server) SetEntryFault(fn func(*loggingpb.LogEntry) *status.Status) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryFault = fn
}

// SetDiscard makes the server validate and acknowledge entries without
// recording them (for benchmarks).
func (s *Server) SetDiscard(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = on
}

// Entries returns the entries written to logName, in arrival order, with the
// request's log name, resource and labels applied.
func (s *Server) Entries(logName string) []*loggingpb.LogEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*loggingpb.LogEntry
	for _, e := range s.entries {
		if e.LogName == logName {
			out = append(out, proto.Clone(e).(*loggingpb.LogEntry))
		}
	}
	return out
}

// Requests returns every call that passed request validation.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Calls returns how many WriteLogEntries calls arrived, failed ones included.
func (s *Server) Calls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func faultStatus(f Fault) error {
	st := status.New(f.Code, f.Message)
	if f.Message == "" {
		st = status.New(f.Code, "injected fault")
	}
	if f.RetryAfter > 0 {
		if d, err := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(f.RetryAfter)}); err == nil {
			st = d
		}
	}
	return st.Err()
}

func (s *Server) fault() *Fault {
	s.calls++
	if s.outage != nil {
		f := *s.outage
		return &f
	}
	for i := range s.next {
		p := &s.next[i]
		if p.pass > 0 {
			p.pass--
			return nil
		}
		f := p.f
		if p.n--; p.n <= 0 {
			s.next = append(s.next[:i], s.next[i+1:]...)
		}
		return &f
	}
	return nil
}

// WriteLogEntries implements the RPC.
func (s *Server) WriteLogEntries(_ context.Context, req *loggingpb.WriteLogEntriesRequest) (*loggingpb.WriteLogEntriesResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f := s.fault(); f != nil {
		return nil, faultStatus(*f)
	}
	if n := proto.Size(req); n > MaxRequestBytes {
		return nil, status.Errorf(codes.InvalidArgument, "Request payload size exceeds the limit: %d bytes.", MaxRequestBytes)
	}
	if len(req.Entries) == 0 {
		return nil, status.Error(codes.InvalidArgument, "at least one log entry is required")
	}
	if req.LogName != "" {
		if err := checkLogName(req.LogName); err != nil {
			return nil, err
		}
	}
	s.requests = append(s.requests, Request{Entries: len(req.Entries), Bytes: proto.Size(req), PartialSuccess: req.PartialSuccess})

	errs := map[int32]*rpcstatus.Status{}
	valid := make([]*loggingpb.LogEntry, 0, len(req.Entries))
	for i, in := range req.Entries {
		e := proto.Clone(in).(*loggingpb.LogEntry)
		if e.LogName == "" {
			e.LogName = req.LogName
		}
		if e.Resource == nil {
			e.Resource = req.Resource
		}
		if len(req.Labels) > 0 {
			if e.Labels == nil {
				e.Labels = map[string]string{}
			}
			for k, v := range req.Labels {
				if _, ok := e.Labels[k]; !ok {
					e.Labels[k] = v
				}
			}
		}
		if st := s.checkEntry(in, e); st != nil {
			errs[int32(i)] = st.Proto()
			continue
		}
		valid = append(valid, e)
	}
	if len(errs) > 0 && (!req.PartialSuccess || len(valid) == 0) {
		for _, st := range errs {
			return nil, status.ErrorProto(st)
		}
	}
	now := time.Now()
	for _, e := range valid {
		key := e.LogName + "\x00" + e.InsertId + "\x00" + e.GetTimestamp().AsTime().String()
		if e.InsertId != "" && s.seen[key] {
			continue // Cloud Logging de-duplicates by insertId and timestamp
		}
		if e.InsertId != "" {
			s.seen[key] = true
		}
		if s.discard {
			continue
		}
		if e.ReceiveTimestamp == nil {
			e.ReceiveTimestamp = timestamppb.New(now)
		}
		s.entries = append(s.entries, e)
	}
	if len(errs) > 0 {
		st, err := status.New(codes.InvalidArgument, fmt.Sprintf("%d log entries were not written", len(errs))).
			WithDetails(&loggingpb.WriteLogEntriesPartialErrors{LogEntryErrors: errs})
		if err != nil {
			return nil, status.Error(codes.Internal, err.Error())
		}
		return nil, st.Err()
	}
	return &loggingpb.WriteLogEntriesResponse{}, nil
}

// checkEntry validates one entry: in as sent, e with the request's defaults.
func (s *Server) checkEntry(in, e *loggingpb.LogEntry) *status.Status {
	if e.LogName == "" {
		return status.New(codes.InvalidArgument, "log_name is required in the request or the entry")
	}
	if err := checkLogName(e.LogName); err != nil {
		st, _ := status.FromError(err)
		return st
	}
	if e.Resource == nil || e.Resource.Type == "" {
		return status.New(codes.InvalidArgument, "a monitored resource is required in the request or the entry")
	}
	if n := proto.Size(in); n > MaxEntryBytes {
		return status.Newf(codes.InvalidArgument, "Log entry with size %d exceeds maximum size of %d", n, MaxEntryBytes)
	}
	if n := len(e.Labels); n > MaxLabels {
		return status.Newf(codes.InvalidArgument, "Log entry has %d labels; at most %d are allowed", n, MaxLabels)
	}
	if s.entryFault != nil {
		return s.entryFault(e)
	}
	return nil
}

func checkLogName(name string) error {
	m := logNameRE.FindStringSubmatch(name)
	if m == nil {
		return status.Errorf(codes.InvalidArgument, "log name %q must be like projects/[PROJECT_ID]/logs/[LOG_ID]", name)
	}
	id, err := url.PathUnescape(m[3])
	if err != nil || id == "" || len(id) > maxLogIDLen {
		return status.Errorf(codes.InvalidArgument, "log id %q must be URL-encoded and 1 to %d characters", m[3], maxLogIDLen)
	}
	for _, r := range id {
		if !(r == '/' || r == '_' || r == '-' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return status.Errorf(codes.InvalidArgument, "log id %q may contain only A-Z a-z 0-9 / _ - .", id)
		}
	}
	return nil
}
