package awsx

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// MaxIdleConnsPerHost is the idle-connection pool per host of the HTTP
// transport LoadConfig creates.
const MaxIdleConnsPerHost = 64

// LoadConfig returns the SDK configuration a transport uses: a copy of base
// when it is non-nil, otherwise the standard AWS configuration chain (with
// region as its region when set). A non-empty region always wins over the
// configuration's own. When the configuration has no HTTP client, LoadConfig
// creates one whose *http.Transport it returns as owned (nil otherwise), so
// the caller can release its idle connections on Close. The HTTP client is
// always wrapped with Guard.
//
// Its errors (no configuration, no region) start with prefix, e.g. "sqs";
// the caller gives them the kind it wants (the AWS transports use
// eventgate.KindRejected).
func LoadConfig(ctx context.Context, base *aws.Config, region, prefix string) (cfg aws.Config, owned *http.Transport, err error) {
	if base != nil {
		cfg = base.Copy()
	} else {
		var opts []func(*awsconfig.LoadOptions) error
		if region != "" {
			opts = append(opts, awsconfig.WithRegion(region))
		}
		loaded, err := awsconfig.LoadDefaultConfig(ctx, opts...)
		if err != nil {
			return aws.Config{}, nil, fmt.Errorf("%s: load AWS configuration: %w", prefix, err)
		}
		cfg = loaded
	}
	if region != "" {
		cfg.Region = region
	}
	if cfg.Region == "" {
		return aws.Config{}, nil, errors.New(prefix + ": no AWS region: set Config.Region, the region URL parameter or AWS_REGION")
	}
	if cfg.HTTPClient == nil {
		tr := awshttp.NewBuildableClient().GetTransport()
		tr.MaxIdleConnsPerHost = MaxIdleConnsPerHost
		owned = tr
		cfg.HTTPClient = &http.Client{Transport: tr}
	}
	cfg.HTTPClient = Guard(cfg.HTTPClient)
	return cfg, owned, nil
}

// Retryer returns the SDK retryer for maxAttempts attempts per call: none
// at all for 1 or less, otherwise the SDK's standard retryer without its
// client-side rate limit (retry budgets are the caller's business).
func Retryer(maxAttempts int) aws.Retryer {
	if maxAttempts <= 1 {
		return aws.NopRetryer{}
	}
	return retry.NewStandard(func(so *retry.StandardOptions) {
		so.MaxAttempts = maxAttempts
		so.RateLimiter = ratelimit.None
	})
}
