package awsx

import (
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Guard wraps the SDK's HTTP client so that request bodies reach net/http
// as plain readers.
//
// The SDK closes a request's body as soon as the response headers arrive,
// and its body wrapper answers a WriteTo after Close with io.EOF. net/http
// copies a body with WriteTo and then checks for trailing bytes with another
// copy; when the SDK's Close lands between the two, the check fails, net/http
// takes it for a broken write and closes the connection while the response
// body is still being read. The call then fails with "use of closed network
// connection" although the service processed it (and, for SQS's
// ReceiveMessage, hid the messages it returned). Hiding WriteTo makes
// net/http use Read, which reports a closed body as a clean end of stream.
func Guard(next aws.HTTPClient) aws.HTTPClient { return guardedClient{next: next} }

type guardedClient struct{ next aws.HTTPClient }

func (c guardedClient) Do(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return c.next.Do(req)
	}
	r := *req
	r.Body = plainBody{req.Body}
	return c.next.Do(&r)
}

// plainBody exposes only Read and Close of a request body.
type plainBody struct{ rc io.ReadCloser }

func (b plainBody) Read(p []byte) (int, error) { return b.rc.Read(p) }
func (b plainBody) Close() error               { return b.rc.Close() }
