package cloudwatch

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate/internal/configurl"
)

// ParseURL parses the URL form of a Config:
//
//	cloudwatch://LOG-GROUP/LOG-STREAM?region=us-east-1&endpoint=http://127.0.0.1:4566&create=true
//	cloudwatch://?group=/aws/agents/prod&stream=gateway-1&region=eu-west-1
//
// The host is the log group and the path the log stream; a group with '/' or
// '#' in its name (common: "/aws/...") goes in the group parameter instead,
// and the stream may always be given as the stream parameter. Query
// parameters:
//
//	group, stream    log group and stream (instead of host and path)
//	region           AWS region (default: the AWS configuration chain)
//	endpoint         service endpoint override (http or https URL)
//	create           "true" creates the group and stream (existing ones are fine)
//	max_attempts     SDK attempts per call (default 1: no SDK retries)
//	timeout          per-call timeout as a Go duration (default 30s)
//	max_event_bytes  largest message (default 262118)
//	name             transport name (default "cloudwatch")
//
// Credentials come from the standard AWS configuration chain, never from the
// URL. Unknown parameters are an error.
func ParseURL(raw string) (Config, error) {
	u, err := configurl.Parse(raw, "cloudwatch", "use the AWS configuration chain")
	if err != nil {
		return Config{}, err
	}
	c := Config{LogGroup: u.Host, LogStream: strings.TrimPrefix(u.Path, "/")}
	params, err := configurl.Params(u, "cloudwatch")
	if err != nil {
		return Config{}, err
	}
	for key, v := range params {
		var perr error
		switch key {
		case "group":
			if c.LogGroup != "" {
				return Config{}, fmt.Errorf("cloudwatch: parse url: log group given as host and as parameter")
			}
			c.LogGroup = v
		case "stream":
			if c.LogStream != "" {
				return Config{}, fmt.Errorf("cloudwatch: parse url: log stream given as path and as parameter")
			}
			c.LogStream = v
		case "region":
			c.Region = v
		case "endpoint":
			c.Endpoint = v
		case "name":
			c.Name = v
		case "create":
			c.Create, perr = strconv.ParseBool(v)
		case "max_attempts":
			c.MaxAttempts, perr = strconv.Atoi(v)
		case "timeout":
			c.RequestTimeout, perr = time.ParseDuration(v)
		case "max_event_bytes":
			c.MaxEventBytes, perr = strconv.Atoi(v)
		default:
			return Config{}, configurl.Unknown("cloudwatch", key)
		}
		if perr != nil {
			return Config{}, configurl.BadValue("cloudwatch", key, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
