// Package configurl holds what the transports' ParseURL functions share: the
// checks every configuration URL gets (it parses, has the transport's scheme,
// carries no credentials), the one-value-per-parameter rule, and the wording
// of their errors; and Open, the ParseURL-New-Connect sequence of every
// transport's Open. It depends on the standard library and the root eventgate
// package only.
//
// A ParseURL built on it:
//
//	func ParseURL(raw string) (Config, error) {
//		u, err := configurl.Parse(raw, "sqs", "use the AWS configuration chain")
//		if err != nil {
//			return Config{}, err
//		}
//		params, err := configurl.Params(u, "sqs")
//		if err != nil {
//			return Config{}, err
//		}
//		c := Config{QueueName: u.Host}
//		for key, v := range params {
//			var perr error
//			switch key {
//			case "max_attempts":
//				c.MaxAttempts, perr = strconv.Atoi(v)
//			default:
//				return Config{}, configurl.Unknown("sqs", key)
//			}
//			if perr != nil {
//				return Config{}, configurl.BadValue("sqs", key, v, perr)
//			}
//		}
//		return c, c.Validate()
//	}
//
//	func Open(ctx context.Context, rawURL string) (*Transport, error) {
//		return configurl.Open(ctx, rawURL, DefaultName, ParseURL, New)
//	}
package configurl
