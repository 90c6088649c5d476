package awsx

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

type recordingClient struct{ got *http.Request }

func (c *recordingClient) Do(req *http.Request) (*http.Response, error) {
	c.got = req
	return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
}

// bodyWithWriteTo is a request body that net/http would copy with WriteTo.
type bodyWithWriteTo struct{ io.Reader }

func (bodyWithWriteTo) WriteTo(io.Writer) (int64, error) { return 0, io.EOF }
func (bodyWithWriteTo) Close() error                     { return nil }

func TestGuardHidesWriteTo(t *testing.T) {
	rec := &recordingClient{}
	req, err := http.NewRequest(http.MethodPost, "http://127.0.0.1/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Body = bodyWithWriteTo{strings.NewReader("payload")}
	if _, err := Guard(rec).Do(req); err != nil {
		t.Fatal(err)
	}
	if _, ok := rec.got.Body.(io.WriterTo); ok {
		t.Fatal("the body passed on still has WriteTo")
	}
	b, err := io.ReadAll(rec.got.Body)
	if err != nil || string(b) != "payload" {
		t.Fatalf("body read %q, %v", b, err)
	}
	if _, ok := req.Body.(bodyWithWriteTo); !ok {
		t.Fatal("the caller's request was changed")
	}

	req.Body = http.NoBody
	if _, err := Guard(rec).Do(req); err != nil {
		t.Fatal(err)
	}
	if rec.got != req {
		t.Fatal("a request without a body should pass through unchanged")
	}
}

func TestRetryer(t *testing.T) {
	for _, n := range []int{0, 1} {
		if _, ok := Retryer(n).(aws.NopRetryer); !ok {
			t.Fatalf("Retryer(%d) = %T, want NopRetryer", n, Retryer(n))
		}
	}
	if got := Retryer(4).MaxAttempts(); got != 4 {
		t.Fatalf("Retryer(4).MaxAttempts() = %d", got)
	}
}

func TestLoadConfig(t *testing.T) {
	base := &aws.Config{Region: "eu-west-1"}
	cfg, owned, err := LoadConfig(t.Context(), base, "", "sqs")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" || owned == nil || cfg.HTTPClient == nil || base.HTTPClient != nil {
		t.Fatalf("region %q, owned %v, client %T, base client %v", cfg.Region, owned, cfg.HTTPClient, base.HTTPClient)
	}
	if owned.MaxIdleConnsPerHost != MaxIdleConnsPerHost {
		t.Fatalf("MaxIdleConnsPerHost = %d", owned.MaxIdleConnsPerHost)
	}
	owned.CloseIdleConnections()

	mine := &recordingClient{}
	cfg, owned, err = LoadConfig(t.Context(), &aws.Config{Region: "eu-west-1", HTTPClient: mine}, "us-east-2", "sqs")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-2" || owned != nil {
		t.Fatalf("region %q, owned %v", cfg.Region, owned)
	}
	if _, ok := cfg.HTTPClient.(guardedClient); !ok {
		t.Fatalf("client %T is not guarded", cfg.HTTPClient)
	}

	_, _, err = LoadConfig(t.Context(), &aws.Config{}, "", "cloudwatch")
	if err == nil || !strings.HasPrefix(err.Error(), "cloudwatch: no AWS region") {
		t.Fatalf("err = %v", err)
	}
}
