package fakeaws

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func post(t *testing.T, url, target, contentType, auth, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Target", target)
	req.Header.Set("Content-Type", contentType)
	if auth != "" {
		req.Header.Set("Authorization", auth)
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
	}
	c := &http.Client{Transport: &http.Transport{}}
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

const sqsAuth = "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00"

func TestProtocolChecks(t *testing.T) {
	s := StartSQS(t)
	const ct = "application/x-amz-json-1.0"
	tests := []struct {
		name, target, ct, auth, body string
		status                       int
		want                         string
	}{
		{"unsigned", "AmazonSQS.GetQueueUrl", ct, "", `{"QueueName":"q"}`, 403, "MissingAuthenticationToken"},
		{"signed for another service", "AmazonSQS.GetQueueUrl", ct, strings.Replace(sqsAuth, "/sqs/", "/logs/", 1), `{"QueueName":"q"}`, 403, "InvalidSignatureException"},
		{"wrong content type", "AmazonSQS.GetQueueUrl", "application/json", sqsAuth, `{}`, 400, "SerializationException"},
		{"unknown operation", "AmazonSQS.PurgeQueue", ct, sqsAuth, `{}`, 400, "UnknownOperationException"},
		{"malformed JSON", "AmazonSQS.GetQueueUrl", ct, sqsAuth, `{`, 400, "SerializationException"},
		{"missing queue", "AmazonSQS.GetQueueUrl", ct, sqsAuth, `{"QueueName":"q"}`, 400, "com.amazonaws.sqs#QueueDoesNotExist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body, _ := post(t, s.URL(), tt.target, tt.ct, tt.auth, tt.body)
			if status != tt.status || !strings.Contains(body, tt.want) {
				t.Errorf("got %d %s; want %d with %q", status, body, tt.status, tt.want)
			}
		})
	}
	_, _, h := post(t, s.URL(), "AmazonSQS.GetQueueUrl", ct, sqsAuth, `{"QueueName":"q"}`)
	if got := h.Get("X-Amzn-Query-Error"); got != "AWS.SimpleQueueService.NonExistentQueue;Sender" {
		t.Errorf("query error header %q", got)
	}
}

// TestAttributesMD5 checks MD5OfMessageAttributes against a value computed
// by hand from SQS's documented encoding.
func TestAttributesMD5(t *testing.T) {
	v := "v"
	got := attributesMD5(map[string]MessageAttribute{"a": {DataType: "String", StringValue: &v}})
	// name: 00000001 'a'; type: 00000006 "String"; transport 01; value: 00000001 'v'
	want := md5Hex([]byte("\x00\x00\x00\x01a\x00\x00\x00\x06String\x01\x00\x00\x00\x01v"))
	if got != want {
		t.Errorf("attributesMD5 = %s; want %s", got, want)
	}
	if attributesMD5(nil) != "" {
		t.Error("no attributes must give no digest")
	}
}
