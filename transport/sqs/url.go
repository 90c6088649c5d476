package sqs

import (
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// ParseURL parses the URL form of a Config:
//
//	sqs://QUEUE-NAME?region=us-east-1&endpoint=http://127.0.0.1:9324&queue_url=...&create=true
//
// The host is the queue name (a name ending in ".fifo" selects a FIFO
// queue); it may be empty when queue_url is given. Query parameters:
//
//	region           AWS region (default: the AWS configuration chain)
//	endpoint         service endpoint override (http or https URL)
//	queue_url        the queue's URL, used without a GetQueueUrl lookup
//	create           "true" creates the queue on Connect when it is missing
//	max_attempts     SDK attempts per call (default 1: no SDK retries)
//	timeout          per-call timeout as a Go duration (default 30s)
//	max_message_bytes, max_batch_bytes   size limits (default 262144)
//	name             transport name (default "sqs")
//
// Credentials always come from the standard AWS configuration chain; a URL
// never carries them. Unknown parameters are an error.
func ParseURL(raw string) (Config, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, fmt.Errorf("sqs: parse url: %w", err)
	}
	if u.Scheme != "sqs" {
		return Config{}, fmt.Errorf("sqs: parse url: scheme %q is not sqs", u.Scheme)
	}
	if u.User != nil {
		return Config{}, fmt.Errorf("sqs: parse url: credentials in the URL are not supported; use the AWS configuration chain")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, fmt.Errorf("sqs: parse url: unexpected path %q (the queue name is the host)", u.Path)
	}
	c := Config{QueueName: u.Host}
	for key, vals := range u.Query() {
		if len(vals) != 1 {
			return Config{}, fmt.Errorf("sqs: parse url: parameter %q given %d times", key, len(vals))
		}
		v := vals[0]
		var perr error
		switch key {
		case "region":
			c.Region = v
		case "endpoint":
			c.Endpoint = v
		case "queue_url":
			c.QueueURL = v
		case "name":
			c.Name = v
		case "create":
			c.CreateQueue, perr = strconv.ParseBool(v)
		case "max_attempts":
			c.MaxAttempts, perr = strconv.Atoi(v)
		case "timeout":
			c.RequestTimeout, perr = time.ParseDuration(v)
		case "max_message_bytes":
			c.MaxMessageBytes, perr = strconv.Atoi(v)
		case "max_batch_bytes":
			c.MaxBatchBytes, perr = strconv.Atoi(v)
		default:
			return Config{}, fmt.Errorf("sqs: parse url: unknown parameter %q", key)
		}
		if perr != nil {
			return Config{}, fmt.Errorf("sqs: parse url: parameter %s=%q: %w", key, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
