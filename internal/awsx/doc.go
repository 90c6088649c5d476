// Package awsx holds the AWS SDK code the AWS transports (transport/sqs and
// transport/cloudwatch) share: building an aws.Config with an HTTP client the
// transport owns, the SDK retryer a Config.MaxAttempts asks for, and mapping
// SDK errors to eventgate kinds. Only those transports import it, so no other
// package pulls in the AWS SDK.
//
// A transport's Connect uses it like this:
//
//	awsCfg, owned, err := awsx.LoadConfig(ctx, cfg.AWS, cfg.Region, "sqs")
//	if err != nil {
//		return eventgate.NewError(cfg.Name, eventgate.KindRejected, err)
//	}
//	client := sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
//		o.Retryer = awsx.Retryer(cfg.MaxAttempts)
//	})
//	// ... and on Close: if owned != nil { owned.CloseIdleConnections() }
//
// and maps a failed call with a Classifier:
//
//	var rules = awsx.Classifier{RetryableClientCodes: map[string]bool{"RequestTimeout": true}}
//	return awsx.Wrap(ctx, cfg.Name, "sqs", "send message", err, rules.Kind)
package awsx
