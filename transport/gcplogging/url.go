package gcplogging

import (
	"strconv"
	"strings"
	"time"

	"github.com/eventgate/eventgate/internal/configurl"
)

// ParseURL parses the URL form of a Config:
//
//	gcplogging://PROJECT-ID/LOG-ID?endpoint=127.0.0.1:8085&insecure=true&severity.tool_error=ERROR
//
// The host is the project id and the path the log id (which may itself
// contain '/'). Query parameters:
//
//	endpoint            gRPC endpoint host:port (default logging.googleapis.com:443)
//	insecure            "true": plaintext, no credentials (local servers only)
//	default_severity    severity of types no rule matches (default INFO)
//	severity.TYPE       severity of event type TYPE, e.g. severity.tool_error=ERROR
//	resource_type       monitored resource type (default global)
//	resource.LABEL      monitored resource label, e.g. resource.location=eu
//	retries             "true": let the client library retry on its own
//	timeout             per-call timeout as a Go duration (default 30s)
//	reconnect_max_delay cap of gRPC's reconnect backoff (default 5s)
//	max_entry_bytes, max_batch_entries, max_request_bytes   limits
//	name                transport name (default "gcplogging")
//
// Credentials come from Application Default Credentials
// (GOOGLE_APPLICATION_CREDENTIALS, gcloud, the metadata server), never from
// the URL. Unknown parameters are an error.
func ParseURL(raw string) (Config, error) {
	u, err := configurl.Parse(raw, "gcplogging", "use Application Default Credentials")
	if err != nil {
		return Config{}, err
	}
	c := Config{ProjectID: u.Host, LogID: strings.TrimPrefix(u.Path, "/")}
	params, err := configurl.Params(u, "gcplogging")
	if err != nil {
		return Config{}, err
	}
	for key, v := range params {
		var perr error
		switch {
		case key == "endpoint":
			c.Endpoint = v
		case key == "insecure":
			c.Insecure, perr = strconv.ParseBool(v)
		case key == "default_severity":
			c.DefaultSeverity = v
		case strings.HasPrefix(key, "severity."):
			if c.Severities == nil {
				c.Severities = map[string]string{}
			}
			c.Severities[strings.TrimPrefix(key, "severity.")] = v
		case key == "resource_type":
			c.ResourceType = v
		case strings.HasPrefix(key, "resource."):
			if c.ResourceLabels == nil {
				c.ResourceLabels = map[string]string{}
			}
			c.ResourceLabels[strings.TrimPrefix(key, "resource.")] = v
		case key == "retries":
			c.ClientRetries, perr = strconv.ParseBool(v)
		case key == "timeout":
			c.RequestTimeout, perr = time.ParseDuration(v)
		case key == "reconnect_max_delay":
			c.ReconnectMaxDelay, perr = time.ParseDuration(v)
		case key == "max_entry_bytes":
			c.MaxEntryBytes, perr = strconv.Atoi(v)
		case key == "max_batch_entries":
			c.MaxBatchEntries, perr = strconv.Atoi(v)
		case key == "max_request_bytes":
			c.MaxRequestBytes, perr = strconv.Atoi(v)
		case key == "name":
			c.Name = v
		default:
			return Config{}, configurl.Unknown("gcplogging", key)
		}
		if perr != nil {
			return Config{}, configurl.BadValue("gcplogging", key, v, perr)
		}
	}
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}
