package sqs

import (
	"fmt"
	"strconv"
	"time"

	"github.com/eventgate/eventgate/internal/configurl"
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
	u, err := configurl.Parse(raw, "sqs", "use the AWS configuration chain")
	if err != nil {
		return Config{}, err
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, fmt.Errorf("sqs: parse url: unexpected path %q (the queue name is the host)", u.Path)
	}
	c := Config{QueueName: u.Host}
	params, err := configurl.Params(u, "sqs")
	if err != nil {
		return Config{}, err
	}
	for key, v := range params {
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
			return Config{}, configurl.Unknown("sqs", key)
		}
		if perr != nil {
			return Config{}, configurl.BadValue("sqs", key, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
