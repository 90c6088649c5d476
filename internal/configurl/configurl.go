package configurl

import (
	"fmt"
	"net/url"
)

// Parse parses raw as a configuration URL of scheme. It fails when raw does
// not parse, has another scheme, or carries credentials (user or password);
// credentialsHint says where credentials come from instead, e.g. "use the
// AWS configuration chain". Every error starts with "SCHEME: parse url: ".
func Parse(raw, scheme, credentialsHint string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: parse url: %w", scheme, err)
	}
	if u.Scheme != scheme {
		return nil, fmt.Errorf("%s: parse url: scheme %q is not %s", scheme, u.Scheme, scheme)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%s: parse url: credentials in the URL are not supported; %s", scheme, credentialsHint)
	}
	return u, nil
}

// Params returns u's query parameters, each with its one value. A parameter
// given more than once is an error that starts with "SCHEME: parse url: ".
func Params(u *url.URL, scheme string) (map[string]string, error) {
	q := u.Query()
	params := make(map[string]string, len(q))
	for key, vals := range q {
		if len(vals) != 1 {
			return nil, fmt.Errorf("%s: parse url: parameter %q given %d times", scheme, key, len(vals))
		}
		params[key] = vals[0]
	}
	return params, nil
}

// Unknown is the error for a parameter the transport does not know.
func Unknown(scheme, key string) error {
	return fmt.Errorf("%s: parse url: unknown parameter %q", scheme, key)
}

// BadValue is the error for parameter key whose value v could not be used
// (err says why).
func BadValue(scheme, key, v string, err error) error {
	return fmt.Errorf("%s: parse url: parameter %s=%q: %w", scheme, key, v, err)
}
