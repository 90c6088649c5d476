package fakeaws

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// CloudWatch Logs limits the fake enforces, as the service documents them.
const (
	// LogsMaxBatchEvents is the most events one PutLogEvents call may carry.
	LogsMaxBatchEvents = 10000
	// LogsMaxBatchBytes bounds a PutLogEvents call: the sum over its events
	// of len(message) + LogsEventOverhead.
	LogsMaxBatchBytes = 1048576
	// LogsEventOverhead is what every event adds to the batch size.
	LogsEventOverhead = 26
	// LogsDefaultMaxEventBytes is the default largest message: 256 KiB less
	// the per-event overhead (the service has since raised this to 1 MB;
	// SetMaxEventSize changes it).
	LogsDefaultMaxEventBytes = 262144 - LogsEventOverhead
	// LogsMaxBatchSpan is the longest time span one batch may cover.
	LogsMaxBatchSpan = 24 * time.Hour
	// LogsMaxAge is how old an event may be (older ones are rejected as too old).
	LogsMaxAge = 14 * 24 * time.Hour
	// LogsMaxFuture is how far in the future an event may be.
	LogsMaxFuture = 2 * time.Hour
)

// Logs is an in-process CloudWatch Logs endpoint speaking AWS JSON 1.1.
type Logs struct {
	*Server

	mu          sync.Mutex
	groups      map[string]*logGroup
	now         func() time.Time
	maxEvent    int
	discard     bool
	puts        []PutCall
	ingestCount int64
}

// PutCall describes one accepted PutLogEvents request.
type PutCall struct {
	Group, Stream string
	Events        int   // events in the request
	Bytes         int   // sum of len(message)+26
	First, Last   int64 // first and last timestamp (ms)
	Rejected      int   // events refused through rejectedLogEventsInfo
}

// LogEvent is an event stored in a fake log stream.
type LogEvent struct {
	Timestamp     int64 // ms since the epoch
	Message       string
	IngestionTime int64
	seq           int64
}

type logGroup struct {
	retentionDays int
	streams       map[string]*logStream
}

type logStream struct {
	events []LogEvent // sorted by timestamp, then by ingestion
}

// StartLogs starts a CloudWatch Logs fake on 127.0.0.1 and closes it when tb ends.
func StartLogs(tb testing.TB) *Logs {
	tb.Helper()
	l := &Logs{
		Server:   newServer("Logs_20140328.", "application/x-amz-json-1.1", "logs", ""),
		groups:   map[string]*logGroup{},
		now:      time.Now,
		maxEvent: LogsDefaultMaxEventBytes,
	}
	l.ops["CreateLogGroup"] = l.createLogGroup
	l.ops["CreateLogStream"] = l.createLogStream
	l.ops["PutLogEvents"] = l.putLogEvents
	l.ops["GetLogEvents"] = l.getLogEvents
	l.ops["FilterLogEvents"] = l.filterLogEvents
	if err := l.start("127.0.0.1:0"); err != nil {
		tb.Fatalf("fakeaws: start CloudWatch Logs: %v", err)
	}
	tb.Cleanup(l.Close)
	return l
}

// CreateStream creates a log group (when missing) and stream directly.
func (l *Logs) CreateStream(group, stream string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[group]
	if g == nil {
		g = &logGroup{streams: map[string]*logStream{}}
		l.groups[group] = g
	}
	if g.streams[stream] == nil {
		g.streams[stream] = &logStream{}
	}
}

// SetRetention sets a group's retention in days; events older than that are
// refused as expired. 0 means never expire.
func (l *Logs) SetRetention(group string, days int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g := l.groups[group]; g != nil {
		g.retentionDays = days
	}
}

// SetMaxEventSize sets the largest message accepted.
func (l *Logs) SetMaxEventSize(n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.maxEvent = n
}

// SetClock replaces the clock used for the too-old/too-new checks.
func (l *Logs) SetClock(now func() time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.now = now
}

// SetDiscard makes the fake validate and acknowledge events without storing
// them (for benchmarks).
func (l *Logs) SetDiscard(discard bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.discard = discard
}

// Events returns a copy of a stream's events in the order GetLogEvents
// returns them.
func (l *Logs) Events(group, stream string) []LogEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.streamLocked(group, stream)
	if s == nil {
		return nil
	}
	return slices.Clone(s.events)
}

// Puts returns every accepted PutLogEvents request in arrival order.
func (l *Logs) Puts() []PutCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.puts)
}

func (l *Logs) streamLocked(group, stream string) *logStream {
	g := l.groups[group]
	if g == nil {
		return nil
	}
	return g.streams[stream]
}

func invalidParameter(format string, args ...any) *apiError {
	return badRequest("InvalidParameterException", "", format, args...)
}

func notFound(what string) *apiError {
	return badRequest("ResourceNotFoundException", "", "The specified %s does not exist.", what)
}

// validLogName checks a log group name: 1 to 512 of A-Z a-z 0-9 _ - / . #.
func validGroupName(s string) bool {
	return s != "" && len(s) <= 512 && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '_' || r == '-' || r == '/' || r == '.' || r == '#' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0
}

// validStreamName checks a log stream name: 1 to 512 characters, no ':' or '*'.
func validStreamName(s string) bool {
	return s != "" && len(s) <= 512 && utf8.ValidString(s) && !strings.ContainsAny(s, ":*")
}

func (l *Logs) createLogGroup(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		LogGroupName string `json:"logGroupName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !validGroupName(in.LogGroupName) {
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'logGroupName' failed to satisfy constraint", in.LogGroupName)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.groups[in.LogGroupName] != nil {
		return nil, badRequest("ResourceAlreadyExistsException", "", "The specified log group already exists")
	}
	l.groups[in.LogGroupName] = &logGroup{streams: map[string]*logStream{}}
	return struct{}{}, nil
}

func (l *Logs) createLogStream(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if !validStreamName(in.LogStreamName) {
		return nil, invalidParameter("1 validation error detected: Value '%s' at 'logStreamName' failed to satisfy constraint", in.LogStreamName)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[in.LogGroupName]
	if g == nil {
		return nil, notFound("log group")
	}
	if g.streams[in.LogStreamName] != nil {
		return nil, badRequest("ResourceAlreadyExistsException", "", "The specified log stream already exists")
	}
	g.streams[in.LogStreamName] = &logStream{}
	return struct{}{}, nil
}

type inputLogEvent struct {
	Timestamp *int64  `json:"timestamp"`
	Message   *string `json:"message"`
}

func (l *Logs) putLogEvents(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string          `json:"logGroupName"`
		LogStreamName string          `json:"logStreamName"`
		LogEvents     []inputLogEvent `json:"logEvents"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	n := len(in.LogEvents)
	if n == 0 {
		return nil, invalidParameter("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length greater than or equal to 1")
	}
	if n > LogsMaxBatchEvents {
		return nil, invalidParameter("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: Member must have length less than or equal to %d", LogsMaxBatchEvents)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	size := 0
	for i, e := range in.LogEvents {
		if e.Timestamp == nil || e.Message == nil || *e.Message == "" {
			return nil, invalidParameter("Log event %d must have a timestamp and a non-empty message", i)
		}
		if len(*e.Message) > l.maxEvent {
			return nil, invalidParameter("Log event too large: %d bytes exceeds limit of %d", len(*e.Message), l.maxEvent)
		}
		if i > 0 && *e.Timestamp < *in.LogEvents[i-1].Timestamp {
			return nil, invalidParameter("Log events in a single PutLogEvents request must be in chronological order.")
		}
		size += len(*e.Message) + LogsEventOverhead
	}
	if size > LogsMaxBatchBytes {
		return nil, invalidParameter("Upload too large: %d bytes exceeds limit of %d", size, LogsMaxBatchBytes)
	}
	g := l.groups[in.LogGroupName]
	if g == nil {
		return nil, notFound("log group")
	}
	s := g.streams[in.LogStreamName]
	if s == nil {
		return nil, notFound("log stream")
	}

	// Events too old, expired or too new are refused one by one; the span
	// rule applies to the rest. Input is sorted, so the refused ones form a
	// prefix and a suffix.
	now := l.now()
	oldLimit := now.Add(-LogsMaxAge).UnixMilli()
	newLimit := now.Add(LogsMaxFuture).UnixMilli()
	expLimit := int64(-1 << 63)
	if g.retentionDays > 0 {
		expLimit = now.Add(-time.Duration(g.retentionDays) * 24 * time.Hour).UnixMilli()
	}
	tooOldEnd, expiredEnd, tooNewStart := 0, 0, n
	for i, e := range in.LogEvents {
		ts := *e.Timestamp
		if ts < oldLimit {
			tooOldEnd = i + 1
		} else if ts < expLimit {
			expiredEnd = i + 1
		}
	}
	for i := n - 1; i >= 0 && *in.LogEvents[i].Timestamp > newLimit; i-- {
		tooNewStart = i
	}
	first := max(tooOldEnd, expiredEnd)
	if first < tooNewStart {
		span := time.Duration(*in.LogEvents[tooNewStart-1].Timestamp-*in.LogEvents[first].Timestamp) * time.Millisecond
		if span > LogsMaxBatchSpan {
			return nil, invalidParameter("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
		}
	}
	ingest := now.UnixMilli()
	if !l.discard {
		for _, e := range in.LogEvents[first:max(first, tooNewStart)] {
			l.ingestCount++
			s.insert(LogEvent{Timestamp: *e.Timestamp, Message: *e.Message, IngestionTime: ingest, seq: l.ingestCount})
		}
	}
	l.puts = append(l.puts, PutCall{
		Group: in.LogGroupName, Stream: in.LogStreamName, Events: n, Bytes: size,
		First: *in.LogEvents[0].Timestamp, Last: *in.LogEvents[n-1].Timestamp,
		Rejected: first + (n - tooNewStart),
	})
	out := map[string]any{"nextSequenceToken": strconv.FormatInt(l.ingestCount, 10)}
	info := map[string]int{}
	if tooOldEnd > 0 {
		info["tooOldLogEventEndIndex"] = tooOldEnd
	}
	if expiredEnd > 0 {
		info["expiredLogEventEndIndex"] = expiredEnd
	}
	if tooNewStart < n {
		info["tooNewLogEventStartIndex"] = tooNewStart
	}
	if len(info) > 0 {
		out["rejectedLogEventsInfo"] = info
	}
	return out, nil
}

// insert keeps events ordered by timestamp, then by ingestion.
func (s *logStream) insert(e LogEvent) {
	i := len(s.events)
	for i > 0 && s.events[i-1].Timestamp > e.Timestamp {
		i--
	}
	s.events = slices.Insert(s.events, i, e)
}

// maxResponseBytes bounds the events of one GetLogEvents/FilterLogEvents answer.
const maxResponseBytes = 1 << 20

func (l *Logs) getLogEvents(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		LogGroupName  string `json:"logGroupName"`
		LogStreamName string `json:"logStreamName"`
		StartTime     *int64 `json:"startTime"`
		EndTime       *int64 `json:"endTime"`
		NextToken     string `json:"nextToken"`
		Limit         *int   `json:"limit"`
		StartFromHead *bool  `json:"startFromHead"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit := LogsMaxBatchEvents
	if in.Limit != nil {
		if *in.Limit < 1 || *in.Limit > LogsMaxBatchEvents {
			return nil, invalidParameter("limit must be between 1 and %d", LogsMaxBatchEvents)
		}
		limit = *in.Limit
	}
	if in.NextToken != "" && (in.StartFromHead == nil || !*in.StartFromHead) {
		return nil, invalidParameter("startFromHead must be true when nextToken is used (only forward paging is supported here)")
	}
	if in.StartFromHead == nil || !*in.StartFromHead {
		return nil, invalidParameter("only startFromHead=true is supported by this server")
	}
	start := 0
	if in.NextToken != "" {
		v, ok := strings.CutPrefix(in.NextToken, "f/")
		n, err := strconv.Atoi(v)
		if !ok || err != nil || n < 0 {
			return nil, invalidParameter("The specified nextToken is invalid.")
		}
		start = n
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.streamLocked(in.LogGroupName, in.LogStreamName)
	if s == nil {
		return nil, notFound("log stream")
	}
	type outEvent struct {
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
	}
	events := []outEvent{}
	pos, bytes := start, 0
	for ; pos < len(s.events) && len(events) < limit; pos++ {
		e := s.events[pos]
		if in.StartTime != nil && e.Timestamp < *in.StartTime || in.EndTime != nil && e.Timestamp >= *in.EndTime {
			continue
		}
		if bytes+len(e.Message) > maxResponseBytes && len(events) > 0 {
			break
		}
		bytes += len(e.Message)
		events = append(events, outEvent{e.Timestamp, e.Message, e.IngestionTime})
	}
	token := "f/" + strconv.Itoa(pos)
	return map[string]any{"events": events, "nextForwardToken": token, "nextBackwardToken": "b/" + strconv.Itoa(start)}, nil
}

func (l *Logs) filterLogEvents(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		LogGroupName   string   `json:"logGroupName"`
		LogStreamNames []string `json:"logStreamNames"`
		FilterPattern  string   `json:"filterPattern"`
		StartTime      *int64   `json:"startTime"`
		EndTime        *int64   `json:"endTime"`
		NextToken      string   `json:"nextToken"`
		Limit          *int     `json:"limit"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	limit := LogsMaxBatchEvents
	if in.Limit != nil {
		limit = *in.Limit
	}
	// Only the simplest filter pattern, one quoted or bare term matched as a
	// substring, is supported.
	term := strings.Trim(strings.TrimSpace(in.FilterPattern), `"`)
	start := 0
	if in.NextToken != "" {
		n, err := strconv.Atoi(in.NextToken)
		if err != nil || n < 0 {
			return nil, invalidParameter("The specified nextToken is invalid.")
		}
		start = n
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	g := l.groups[in.LogGroupName]
	if g == nil {
		return nil, notFound("log group")
	}
	names := in.LogStreamNames
	if len(names) == 0 {
		for n := range g.streams {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	type outEvent struct {
		LogStreamName string `json:"logStreamName"`
		Timestamp     int64  `json:"timestamp"`
		Message       string `json:"message"`
		IngestionTime int64  `json:"ingestionTime"`
		EventID       string `json:"eventId"`
		seq           int64
	}
	var all []outEvent
	for _, name := range names {
		s := g.streams[name]
		if s == nil {
			continue
		}
		for _, e := range s.events {
			if in.StartTime != nil && e.Timestamp < *in.StartTime || in.EndTime != nil && e.Timestamp >= *in.EndTime {
				continue
			}
			if term != "" && !strings.Contains(e.Message, term) {
				continue
			}
			all = append(all, outEvent{name, e.Timestamp, e.Message, e.IngestionTime, strconv.FormatInt(e.seq, 10), e.seq})
		}
	}
	slices.SortStableFunc(all, func(a, b outEvent) int {
		if a.Timestamp != b.Timestamp {
			return cmp.Compare(a.Timestamp, b.Timestamp)
		}
		return cmp.Compare(a.seq, b.seq)
	})
	if start > len(all) {
		start = len(all)
	}
	end := min(len(all), start+limit)
	out := map[string]any{"events": all[start:end], "searchedLogStreams": []any{}}
	if end < len(all) {
		out["nextToken"] = strconv.Itoa(end)
	}
	return out, nil
}
