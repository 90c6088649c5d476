package fakeaws

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultSQSMaxMessageSize is SQS's long-standing default for a queue's
// MaximumMessageSize and the limit of a batch's total payload: 256 KiB.
const DefaultSQSMaxMessageSize = 262144

// sqsAccount is the account id in every queue URL the fake hands out.
const sqsAccount = "000000000000"

// dedupWindow is how long a FIFO queue remembers a deduplication id.
const dedupWindow = 5 * time.Minute

// SQS is an in-process SQS endpoint speaking AWS JSON 1.0.
type SQS struct {
	*Server

	mu         sync.Mutex
	queues     map[string]*sqsQueue
	entryFault func(EntryInfo) *EntryFault
	discard    bool
	batchSizes []int
	changed    chan struct{} // closed and replaced whenever a message is enqueued
}

// EntryInfo describes one entry of a SendMessageBatch request, for
// SetEntryFault.
type EntryInfo struct {
	Queue string // queue name
	ID    string // the entry's batch id
	Body  string
}

// EntryFault makes one batch entry fail: it is reported in the response's
// Failed list with this code and sender fault, while the rest of the batch is
// accepted.
type EntryFault struct {
	Code        string
	SenderFault bool
	Message     string
}

// Message is a message stored in a fake queue.
type Message struct {
	ID           string
	Body         string
	Attributes   map[string]MessageAttribute
	GroupID      string
	DedupID      string
	Sequence     string
	ReceiveCount int
}

// MessageAttribute is a message attribute as SQS carries it.
type MessageAttribute struct {
	DataType    string  `json:"DataType"`
	StringValue *string `json:"StringValue,omitempty"`
	BinaryValue []byte  `json:"BinaryValue,omitempty"`
	// List values are reserved by SQS ("not implemented"); the fake rejects them.
	StringListValues []string `json:"StringListValues,omitempty"`
	BinaryListValues [][]byte `json:"BinaryListValues,omitempty"`
}

type sqsQueue struct {
	name, url    string
	fifo         bool
	contentDedup bool
	maxSize      int
	visibility   time.Duration
	msgs         []*sqsMessage // in acceptance order; deleted ones are compacted away lazily
	deleted      int           // deleted messages still in msgs
	byReceipt    map[string]*sqsMessage
	dedup        map[string]dedupRecord
	seq          uint64
}

type dedupRecord struct {
	at        time.Time
	messageID string
	seq       string
}

type sqsMessage struct {
	Message
	md5Body, md5Attrs string
	sent              time.Time
	receipt           string
	invisibleUntil    time.Time
	deleted           bool
}

// StartSQS starts an SQS fake on 127.0.0.1 and closes it when tb ends.
func StartSQS(tb testing.TB) *SQS {
	tb.Helper()
	s := &SQS{
		Server:  newServer("AmazonSQS.", "application/x-amz-json-1.0", "sqs", "com.amazonaws.sqs#"),
		queues:  map[string]*sqsQueue{},
		changed: make(chan struct{}),
	}
	s.ops["CreateQueue"] = s.createQueue
	s.ops["GetQueueUrl"] = s.getQueueURL
	s.ops["SendMessage"] = s.sendMessage
	s.ops["SendMessageBatch"] = s.sendMessageBatch
	s.ops["ReceiveMessage"] = s.receiveMessage
	s.ops["DeleteMessage"] = s.deleteMessage
	s.ops["DeleteMessageBatch"] = s.deleteMessageBatch
	if err := s.start("127.0.0.1:0"); err != nil {
		tb.Fatalf("fakeaws: start SQS: %v", err)
	}
	tb.Cleanup(s.Close)
	return s
}

// CreateQueue creates a queue directly (as the CreateQueue call would) and
// returns its URL. attrs are SQS queue attributes: FifoQueue,
// ContentBasedDeduplication, MaximumMessageSize, VisibilityTimeout.
func (s *SQS) CreateQueue(name string, attrs map[string]string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.createLocked(name, attrs)
	if aerr != nil {
		return "", aerr
	}
	return q.url, nil
}

// SetEntryFault installs fn, called for every SendMessageBatch entry that
// passed validation; a non-nil result fails that entry. nil removes it.
func (s *SQS) SetEntryFault(fn func(EntryInfo) *EntryFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.entryFault = fn
}

// SetDiscard makes the fake validate and acknowledge messages without
// storing them (for benchmarks).
func (s *SQS) SetDiscard(discard bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.discard = discard
}

// Messages returns a copy of the messages queue holds, received or not, in
// the order they were accepted.
func (s *SQS) Messages(queue string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[queue]
	if q == nil {
		return nil
	}
	out := make([]Message, 0, len(q.msgs)-q.deleted)
	for _, m := range q.msgs {
		if !m.deleted {
			out = append(out, m.Message)
		}
	}
	return out
}

// BatchSizes returns the number of entries of every SendMessageBatch request
// that passed request-level validation, in arrival order.
func (s *SQS) BatchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.batchSizes)
}

func (s *SQS) createLocked(name string, attrs map[string]string) (*sqsQueue, *apiError) {
	fifo := attrs["FifoQueue"] == "true"
	base, hasSuffix := strings.CutSuffix(name, ".fifo")
	if fifo != hasSuffix {
		return nil, badRequest("InvalidParameterValueException", "InvalidParameterValue",
			"The name of a FIFO queue must end with the .fifo suffix, and only a FIFO queue may use it")
	}
	if base == "" || len(name) > 80 || strings.IndexFunc(base, func(r rune) bool {
		return !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) >= 0 {
		return nil, badRequest("InvalidParameterValueException", "InvalidParameterValue",
			"Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length")
	}
	if q := s.queues[name]; q != nil {
		if q.fifo != fifo {
			return nil, badRequest("QueueNameExists", "QueueAlreadyExists", "A queue already exists with the same name and a different value for attribute FifoQueue")
		}
		return q, nil
	}
	q := &sqsQueue{
		name:       name,
		url:        s.URL() + "/" + sqsAccount + "/" + name,
		fifo:       fifo,
		maxSize:    DefaultSQSMaxMessageSize,
		visibility: 30 * time.Second,
		dedup:      map[string]dedupRecord{},
		byReceipt:  map[string]*sqsMessage{},
	}
	if fifo {
		q.contentDedup = attrs["ContentBasedDeduplication"] == "true"
	}
	if v, ok := attrs["MaximumMessageSize"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1024 || n > 1048576 {
			return nil, badRequest("InvalidAttributeValue", "InvalidAttributeValue", "Invalid value for the parameter MaximumMessageSize")
		}
		q.maxSize = n
	}
	if v, ok := attrs["VisibilityTimeout"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 43200 {
			return nil, badRequest("InvalidAttributeValue", "InvalidAttributeValue", "Invalid value for the parameter VisibilityTimeout")
		}
		q.visibility = time.Duration(n) * time.Second
	}
	s.queues[name] = q
	return q, nil
}

func (s *SQS) createQueue(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueueName  string
		Attributes map[string]string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.createLocked(in.QueueName, in.Attributes)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

func (s *SQS) getQueueURL(_ context.Context, body []byte) (any, *apiError) {
	var in struct{ QueueName string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queues[in.QueueName]
	if q == nil {
		return nil, errNoQueue()
	}
	return map[string]string{"QueueUrl": q.url}, nil
}

func errNoQueue() *apiError {
	return badRequest("QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist.")
}

// queueLocked finds the queue a QueueUrl names: the URL's last path element
// is the queue name, the one before it the account.
func (s *SQS) queueLocked(rawURL string) (*sqsQueue, *apiError) {
	if rawURL == "" {
		return nil, badRequest("MissingParameter", "MissingParameter", "The request must contain the parameter QueueUrl.")
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, badRequest("InvalidAddress", "InvalidAddress", "The address %s is not valid for this endpoint.", rawURL)
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	if len(parts) != 2 || parts[0] != sqsAccount {
		return nil, badRequest("InvalidAddress", "InvalidAddress", "The address %s is not valid for this endpoint.", rawURL)
	}
	q := s.queues[parts[1]]
	if q == nil {
		return nil, errNoQueue()
	}
	return q, nil
}

type sendInput struct {
	Id                     string // batch entries only
	MessageBody            string
	MessageAttributes      map[string]MessageAttribute
	MessageGroupId         string
	MessageDeduplicationId string
	DelaySeconds           *int
}

func (s *SQS) sendMessage(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueueUrl string
		sendInput
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := validateMessage(q, &in.sendInput); aerr != nil {
		return nil, aerr
	}
	return s.enqueueLocked(q, &in.sendInput), nil
}

func (s *SQS) sendMessageBatch(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueueUrl string
		Entries  []sendInput
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.Entries) == 0 {
		return nil, badRequest("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one SendMessageBatchRequestEntry in the request.")
	}
	if len(in.Entries) > 10 {
		return nil, badRequest("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
			"Maximum number of entries per request are 10. You have sent %d.", len(in.Entries))
	}
	seen := map[string]bool{}
	total := 0
	for i := range in.Entries {
		e := &in.Entries[i]
		if !validBatchID(e.Id) {
			return nil, badRequest("InvalidBatchEntryId", "AWS.SimpleQueueService.InvalidBatchEntryId",
				"A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.")
		}
		if seen[e.Id] {
			return nil, badRequest("BatchEntryIdsNotDistinct", "AWS.SimpleQueueService.BatchEntryIdsNotDistinct", "Id %s repeated.", e.Id)
		}
		seen[e.Id] = true
		total += messageSize(e)
	}
	if total > q.maxSize {
		return nil, badRequest("BatchRequestTooLong", "AWS.SimpleQueueService.BatchRequestTooLong",
			"Batch requests cannot be longer than %d bytes. You have sent %d bytes.", q.maxSize, total)
	}
	s.batchSizes = append(s.batchSizes, len(in.Entries))
	type failed struct {
		Id          string
		SenderFault bool
		Code        string
		Message     string
	}
	successful := []any{}
	failures := []failed{}
	for i := range in.Entries {
		e := &in.Entries[i]
		if aerr := validateMessage(q, e); aerr != nil {
			failures = append(failures, failed{Id: e.Id, SenderFault: true, Code: aerr.QueryCode, Message: aerr.Message})
			continue
		}
		if s.entryFault != nil {
			if f := s.entryFault(EntryInfo{Queue: q.name, ID: e.Id, Body: e.MessageBody}); f != nil {
				failures = append(failures, failed{Id: e.Id, SenderFault: f.SenderFault, Code: f.Code, Message: f.Message})
				continue
			}
		}
		r := s.enqueueLocked(q, e)
		r["Id"] = e.Id
		successful = append(successful, r)
	}
	return map[string]any{"Successful": successful, "Failed": failures}, nil
}

// enqueueLocked stores a validated message (or recognizes a FIFO duplicate)
// and returns the SendMessage result fields.
func (s *SQS) enqueueLocked(q *sqsQueue, in *sendInput) map[string]any {
	md5Body := md5Hex([]byte(in.MessageBody))
	md5Attrs := attributesMD5(in.MessageAttributes)
	now := time.Now()
	res := map[string]any{"MD5OfMessageBody": md5Body}
	if md5Attrs != "" {
		res["MD5OfMessageAttributes"] = md5Attrs
	}
	dedupID := in.MessageDeduplicationId
	if q.fifo {
		if dedupID == "" {
			dedupID = hex.EncodeToString(sha256Sum([]byte(in.MessageBody)))
		}
		if r, ok := q.dedup[dedupID]; ok && now.Sub(r.at) < dedupWindow {
			res["MessageId"] = r.messageID
			res["SequenceNumber"] = r.seq
			return res
		}
	}
	m := &sqsMessage{
		Message: Message{
			ID:         newUUID(),
			Body:       in.MessageBody,
			Attributes: in.MessageAttributes,
			GroupID:    in.MessageGroupId,
			DedupID:    in.MessageDeduplicationId,
		},
		md5Body:  md5Body,
		md5Attrs: md5Attrs,
		sent:     now,
	}
	res["MessageId"] = m.ID
	if q.fifo {
		q.seq++
		m.Sequence = fmt.Sprintf("%020d", q.seq)
		res["SequenceNumber"] = m.Sequence
		q.dedup[dedupID] = dedupRecord{at: now, messageID: m.ID, seq: m.Sequence}
	}
	if !s.discard {
		q.msgs = append(q.msgs, m)
		close(s.changed)
		s.changed = make(chan struct{})
	}
	return res
}

func (s *SQS) receiveMessage(ctx context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             *int
		MessageAttributeNames       []string
		MessageSystemAttributeNames []string
		AttributeNames              []string
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	max := 1
	if in.MaxNumberOfMessages != nil {
		max = *in.MaxNumberOfMessages
	}
	if max < 1 || max > 10 {
		return nil, badRequest("InvalidParameterValueException", "ReadCountOutOfRange", "Value %d for parameter MaxNumberOfMessages is invalid. Reason: Must be between 1 and 10.", max)
	}
	wait := 0
	if in.WaitTimeSeconds != nil {
		wait = *in.WaitTimeSeconds
	}
	if wait < 0 || wait > 20 {
		return nil, badRequest("InvalidParameterValueException", "InvalidParameterValue", "Value %d for parameter WaitTimeSeconds is invalid. Reason: Must be >= 0 and <= 20.", wait)
	}
	deadline := time.Now().Add(time.Duration(wait) * time.Second)
	for {
		s.mu.Lock()
		q, aerr := s.queueLocked(in.QueueUrl)
		if aerr != nil {
			s.mu.Unlock()
			return nil, aerr
		}
		vis := q.visibility
		if in.VisibilityTimeout != nil {
			vis = time.Duration(*in.VisibilityTimeout) * time.Second
		}
		msgs := s.takeLocked(q, max, vis, in.MessageAttributeNames, append(in.MessageSystemAttributeNames, in.AttributeNames...))
		changed := s.changed
		s.mu.Unlock()
		if len(msgs) > 0 || !time.Now().Before(deadline) {
			return map[string]any{"Messages": msgs}, nil
		}
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-changed:
		case <-t.C:
		case <-ctx.Done():
		}
		t.Stop()
		if ctx.Err() != nil {
			return map[string]any{"Messages": []any{}}, nil
		}
	}
}

// takeLocked picks up to max visible messages in order. In a FIFO queue a
// message group with a message in flight yields nothing further until that
// message is deleted or visible again.
func (s *SQS) takeLocked(q *sqsQueue, max int, vis time.Duration, attrNames, sysNames []string) []map[string]any {
	now := time.Now()
	blocked := map[string]bool{}
	var out []map[string]any
	for _, m := range q.msgs {
		if len(out) == max {
			break
		}
		if m.deleted {
			continue
		}
		if now.Before(m.invisibleUntil) {
			if q.fifo {
				blocked[m.GroupID] = true
			}
			continue
		}
		if q.fifo && blocked[m.GroupID] {
			continue
		}
		delete(q.byReceipt, m.receipt)
		m.receipt = newUUID() + "#" + m.ID
		q.byReceipt[m.receipt] = m
		m.invisibleUntil = now.Add(vis)
		m.ReceiveCount++
		r := map[string]any{
			"MessageId":     m.ID,
			"ReceiptHandle": m.receipt,
			"MD5OfBody":     m.md5Body,
			"Body":          m.Body,
		}
		if attrs := selectAttributes(m.Attributes, attrNames); len(attrs) > 0 {
			r["MessageAttributes"] = attrs
			r["MD5OfMessageAttributes"] = attributesMD5(attrs)
		}
		if sys := systemAttributes(m, sysNames); len(sys) > 0 {
			r["Attributes"] = sys
		}
		out = append(out, r)
	}
	return out
}

func selectAttributes(all map[string]MessageAttribute, names []string) map[string]MessageAttribute {
	out := map[string]MessageAttribute{}
	for k, v := range all {
		for _, n := range names {
			prefix, wild := strings.CutSuffix(n, ".*")
			if n == "All" || n == ".*" || n == k || wild && strings.HasPrefix(k, prefix+".") {
				out[k] = v
				break
			}
		}
	}
	return out
}

func systemAttributes(m *sqsMessage, names []string) map[string]string {
	out := map[string]string{}
	want := func(n string) bool { return slices.Contains(names, "All") || slices.Contains(names, n) }
	if want("SentTimestamp") {
		out["SentTimestamp"] = strconv.FormatInt(m.sent.UnixMilli(), 10)
	}
	if want("ApproximateReceiveCount") {
		out["ApproximateReceiveCount"] = strconv.Itoa(m.ReceiveCount)
	}
	if m.GroupID != "" && want("MessageGroupId") {
		out["MessageGroupId"] = m.GroupID
	}
	if m.DedupID != "" && want("MessageDeduplicationId") {
		out["MessageDeduplicationId"] = m.DedupID
	}
	if m.Sequence != "" && want("SequenceNumber") {
		out["SequenceNumber"] = m.Sequence
	}
	return out
}

func (s *SQS) deleteMessage(_ context.Context, body []byte) (any, *apiError) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if !q.deleteLocked(in.ReceiptHandle) {
		return nil, badRequest("ReceiptHandleIsInvalid", "ReceiptHandleIsInvalid", "The input receipt handle %q is not a valid receipt handle.", in.ReceiptHandle)
	}
	return map[string]any{}, nil
}

func (s *SQS) deleteMessageBatch(_ context.Context, body []byte) (any, *apiError) {
	var in struct {
		QueueUrl string
		Entries  []struct{ Id, ReceiptHandle string }
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q, aerr := s.queueLocked(in.QueueUrl)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.Entries) == 0 {
		return nil, badRequest("EmptyBatchRequest", "AWS.SimpleQueueService.EmptyBatchRequest", "There should be at least one DeleteMessageBatchRequestEntry in the request.")
	}
	if len(in.Entries) > 10 {
		return nil, badRequest("TooManyEntriesInBatchRequest", "AWS.SimpleQueueService.TooManyEntriesInBatchRequest", "Maximum number of entries per request are 10.")
	}
	ok := []map[string]string{}
	failed := []map[string]any{}
	for _, e := range in.Entries {
		if q.deleteLocked(e.ReceiptHandle) {
			ok = append(ok, map[string]string{"Id": e.Id})
		} else {
			failed = append(failed, map[string]any{"Id": e.Id, "SenderFault": true, "Code": "ReceiptHandleIsInvalid", "Message": "invalid receipt handle"})
		}
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

func (q *sqsQueue) deleteLocked(receipt string) bool {
	m := q.byReceipt[receipt]
	if m == nil {
		return false
	}
	delete(q.byReceipt, receipt)
	m.deleted = true
	q.deleted++
	if q.deleted > 64 && q.deleted > len(q.msgs)/2 {
		live := q.msgs[:0]
		for _, m := range q.msgs {
			if !m.deleted {
				live = append(live, m)
			}
		}
		clear(q.msgs[len(live):])
		q.msgs = live
		q.deleted = 0
	}
	return true
}

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
