package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/server"
)

// Config is the daemon's configuration: the YAML file overlaid by EVENTGATE_*
// environment variables (see Load). Every zero field has a documented
// default.
type Config struct {
	// Dir is the data directory. Default eventgate.DefaultDir():
	// $EVENTGATE_DIR, $AGENT_LOG_DIR, ./logs/sessions.
	Dir string `yaml:"dir"`
	// Sync is the journal's sync policy: "always" (default), "never" or
	// "interval:<duration>" such as "interval:100ms".
	Sync string `yaml:"sync"`
	// Listen is the HTTP server's address. Default 127.0.0.1:8080.
	Listen string `yaml:"listen"`
	// TLS serves HTTPS from a certificate and key file (both or neither).
	TLS TLS `yaml:"tls"`
	// Auth lists the bearer tokens of the HTTP API.
	Auth Auth `yaml:"auth"`
	// Limits bound request sizes and concurrency.
	Limits Limits `yaml:"limits"`
	// Timeouts of the HTTP server.
	Timeouts Timeouts `yaml:"timeouts"`
	// DrainTimeout bounds the shutdown: stopping intake and delivering what
	// the routes hold. Default 10s.
	DrainTimeout Duration `yaml:"drain_timeout"`
	// Log configures the daemon's own log (on standard error).
	Log Log `yaml:"log"`
	// Retention deletes whole sessions in the background. None by default.
	Retention Retention `yaml:"retention"`
	// Dedup configures idempotent ingest. On by default: 24h, 1,000,000 ids.
	Dedup Dedup `yaml:"dedup"`
	// Transports are the routes every event is delivered to, in order.
	// None: events are only recorded locally.
	Transports []Transport `yaml:"transports"`

	// Registry builds transports from URLs. Default DefaultRegistry().
	Registry Registry `yaml:"-"`
	// Logger is handed to the Gateway and the transports. Default: discard.
	Logger *slog.Logger `yaml:"-"`

	tokens []server.Token
}

// TLS names a certificate and key file in PEM.
type TLS struct {
	Cert string `yaml:"cert"`
	Key  string `yaml:"key"`
}

// Enabled reports whether both files are configured.
func (t TLS) Enabled() bool { return t.Cert != "" && t.Key != "" }

// Auth configures authentication of the HTTP API.
type Auth struct {
	// Disabled serves without authentication. It must be set explicitly,
	// and the daemon allows it only on a loopback listen address.
	Disabled bool `yaml:"disabled"`
	// PublicMetrics serves /metrics without a token.
	PublicMetrics bool `yaml:"public_metrics"`
	// Tokens are the accepted bearer tokens.
	Tokens []Token `yaml:"tokens"`
}

// Token is one bearer token: its secret comes from exactly one of Token
// (literal; keep such files private), TokenEnv (an environment variable's
// name) or TokenFile (a file holding it; surrounding space is trimmed).
type Token struct {
	Name      string   `yaml:"name"`
	Token     string   `yaml:"token"`
	TokenEnv  string   `yaml:"token_env"`
	TokenFile string   `yaml:"token_file"`
	Scopes    []string `yaml:"scopes"` // ingest, read, admin
}

// Limits bound what the server accepts.
type Limits struct {
	MaxBody       ByteSize `yaml:"max_body"`       // JSON body; default 16MiB
	MaxEventSize  ByteSize `yaml:"max_event_size"` // one event's data; default 1MiB
	MaxStreamBody ByteSize `yaml:"max_stream_body"`
	MaxConcurrent int      `yaml:"max_concurrent"` // requests other than ingest; default 256
	MaxStreams    int      `yaml:"max_streams"`    // SSE streams; default 128
	BacklogWait   Duration `yaml:"backlog_wait"`   // default 5s
	// MaxIngest caps ingest requests at once, in a pool of their own;
	// default 256.
	MaxIngest int `yaml:"max_ingest"`
	// MaxPerToken caps one token's requests at once in each pool; default 64.
	MaxPerToken int `yaml:"max_per_token"`
	// MinUploadRate is the slowest an ingest body may arrive, in bytes a
	// second measured over 10s; slower ones are cut. Default 256; -1
	// disables it.
	MinUploadRate int `yaml:"min_upload_rate"`
}

// Timeouts of the HTTP server; see server.Options.
type Timeouts struct {
	ReadHeader Duration `yaml:"read_header"` // default 5s
	Read       Duration `yaml:"read"`        // default 5m
	Write      Duration `yaml:"write"`       // default 5m
	Idle       Duration `yaml:"idle"`        // default 2m
}

// Retention bounds the sessions kept, deleting the least recently active
// whole sessions first; see eventgate.WithRetention. Zero fields are no bound.
type Retention struct {
	MaxAge   Duration `yaml:"max_age"`   // such as 30d or 720h
	MaxBytes ByteSize `yaml:"max_bytes"` // of all session files, such as 50GiB
}

// Dedup configures how events given with an id (the event's "id", the seed
// payload's metadata.event_id, or an Idempotency-Key) are recorded once; see
// eventgate.WithDedup. Zero fields keep the defaults.
type Dedup struct {
	Window   Duration `yaml:"window"`   // how long an id is remembered; default 24h
	MaxKeys  int      `yaml:"max_keys"` // ids remembered at most (oldest forgotten first); default 1000000
	Disabled bool     `yaml:"disabled"` // record every event as given, duplicates included
}

// Log configures the daemon's log.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // text (default) or json
}

// Default values.
const (
	DefaultListen       = "127.0.0.1:8080"
	DefaultDrainTimeout = 10 * time.Second
)

// Load reads the YAML file at path (none when path is "") and overlays the
// environment: EVENTGATE_* variables win over the file (see ApplyEnv). It
// validates the result.
func Load(path string) (*Config, error) { return LoadEnv(path, os.LookupEnv) }

// LoadEnv is Load with the environment read through lookup.
func LoadEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	return loadEnv(path, lookup, true)
}

// LoadLocal is Load for the commands that do not serve HTTP: it validates
// every field but the bearer tokens, which it neither resolves nor
// requires (see ValidateLocal).
func LoadLocal(path string) (*Config, error) { return LoadLocalEnv(path, os.LookupEnv) }

// LoadLocalEnv is LoadLocal with the environment read through lookup.
func LoadLocalEnv(path string, lookup func(string) (string, bool)) (*Config, error) {
	return loadEnv(path, lookup, false)
}

func loadEnv(path string, lookup func(string) (string, bool), withAuth bool) (*Config, error) {
	c := &Config{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if c, err = Parse(b); err != nil {
			return nil, fmt.Errorf("config: %s: %w", path, err)
		}
	}
	if err := c.ApplyEnv(lookup); err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	if err := c.validate(withAuth); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes a YAML document strictly: an unknown key is an error.
func Parse(b []byte) (*Config, error) {
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("more than one YAML document")
	}
	return c, nil
}

// ApplyEnv overlays the environment on c:
//
//	EVENTGATE_DIR            dir (AGENT_LOG_DIR, the original logger's variable, when unset)
//	EVENTGATE_SYNC           sync
//	EVENTGATE_LISTEN         listen
//	EVENTGATE_TLS_CERT/_KEY  tls.cert, tls.key
//	EVENTGATE_TOKENS         replaces auth.tokens: "<secret>:<scope>[+<scope>…][,…]"
//	EVENTGATE_AUTH_DISABLED  auth.disabled (true/false)
//	EVENTGATE_MAX_BODY       limits.max_body
//	EVENTGATE_MAX_EVENT_SIZE limits.max_event_size
//	EVENTGATE_DRAIN_TIMEOUT  drain_timeout
//	EVENTGATE_LOG_LEVEL      log.level
//	EVENTGATE_LOG_FORMAT     log.format
//	EVENTGATE_TRANSPORTS     replaces transports: "<name>=<url>[;<name>=<url>…]"
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	get := func(k string) (string, bool) {
		v, ok := lookup(k)
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	if v, ok := get("EVENTGATE_DIR"); ok {
		c.Dir = v
	} else if v, ok := get("AGENT_LOG_DIR"); ok {
		c.Dir = v
	}
	str := map[string]*string{
		"EVENTGATE_SYNC": &c.Sync, "EVENTGATE_LISTEN": &c.Listen, "EVENTGATE_TLS_CERT": &c.TLS.Cert,
		"EVENTGATE_TLS_KEY": &c.TLS.Key, "EVENTGATE_LOG_LEVEL": &c.Log.Level, "EVENTGATE_LOG_FORMAT": &c.Log.Format,
	}
	for k, p := range str {
		if v, ok := get(k); ok {
			*p = v
		}
	}
	if v, ok := get("EVENTGATE_AUTH_DISABLED"); ok {
		switch strings.ToLower(v) {
		case "1", "true", "yes":
			c.Auth.Disabled = true
		case "0", "false", "no":
			c.Auth.Disabled = false
		default:
			return fmt.Errorf("EVENTGATE_AUTH_DISABLED: %q is not true or false", v)
		}
	}
	for k, p := range map[string]*ByteSize{"EVENTGATE_MAX_BODY": &c.Limits.MaxBody, "EVENTGATE_MAX_EVENT_SIZE": &c.Limits.MaxEventSize} {
		if v, ok := get(k); ok {
			n, err := parseSize(v)
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			*p = ByteSize(n)
		}
	}
	if v, ok := get("EVENTGATE_DRAIN_TIMEOUT"); ok {
		d, err := parseDuration(v)
		if err != nil {
			return fmt.Errorf("EVENTGATE_DRAIN_TIMEOUT: %w", err)
		}
		c.DrainTimeout = Duration(d)
	}
	if v, ok := get("EVENTGATE_TOKENS"); ok {
		toks, err := parseEnvTokens(v)
		if err != nil {
			return fmt.Errorf("EVENTGATE_TOKENS: %w", err)
		}
		c.Auth.Tokens = toks
	}
	if v, ok := get("EVENTGATE_TRANSPORTS"); ok {
		var ts []Transport
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ';' || r == '\n' }) {
			name, u, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok {
				return fmt.Errorf("EVENTGATE_TRANSPORTS: %q is not name=url", part)
			}
			ts = append(ts, Transport{Name: strings.TrimSpace(name), URL: strings.TrimSpace(u)})
		}
		c.Transports = ts
	}
	return nil
}

// parseEnvTokens reads "<secret>:<scope>[+<scope>…]" entries separated by
// commas. The scopes follow the secret's last colon.
func parseEnvTokens(v string) ([]Token, error) {
	var out []Token
	for i, part := range strings.Split(v, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k := strings.LastIndexByte(part, ':')
		if k <= 0 {
			return nil, fmt.Errorf("entry %d: want <secret>:<scope>[+<scope>…]", i+1)
		}
		scopes := strings.FieldsFunc(part[k+1:], func(r rune) bool { return r == '+' || r == '|' })
		out = append(out, Token{Name: fmt.Sprintf("env-%d", i+1), Token: part[:k], Scopes: scopes})
	}
	return out, nil
}

var routeName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$`)

// Validate checks every field and resolves the tokens. It does not contact
// any transport (see Check).
func (c *Config) Validate() error { return c.validate(true) }

// ValidateLocal checks every field but auth.tokens: what the commands that
// work on the data directory without serving HTTP need. ServerTokens is
// empty afterwards.
func (c *Config) ValidateLocal() error { return c.validate(false) }

// ResolveTokens resolves auth.tokens (their secrets from the environment or
// files) as Validate does, so that ServerTokens returns them.
func (c *Config) ResolveTokens() error {
	var errs []error
	c.tokens = nil
	for i, t := range c.Auth.Tokens {
		tok, err := t.resolve(i)
		if err != nil {
			errs = append(errs, fmt.Errorf("auth.tokens[%d]: %w", i, err))
			continue
		}
		c.tokens = append(c.tokens, tok)
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

func (c *Config) validate(withAuth bool) error {
	var errs []error
	add := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if _, err := c.SyncPolicy(); err != nil {
		add("sync: %w", err)
	}
	if c.Dedup.Window < 0 {
		add("dedup.window: %v must not be negative", c.Dedup.Window.D())
	}
	if c.Dedup.MaxKeys < 0 {
		add("dedup.max_keys: %d must not be negative", c.Dedup.MaxKeys)
	}
	if c.Listen != "" {
		if _, _, err := net.SplitHostPort(c.Listen); err != nil {
			add("listen: %q is not host:port", c.Listen)
		}
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		add("tls: give both cert and key, or neither")
	}
	c.tokens = nil
	if withAuth {
		for i, t := range c.Auth.Tokens {
			tok, err := t.resolve(i)
			if err != nil {
				add("auth.tokens[%d]: %w", i, err)
				continue
			}
			c.tokens = append(c.tokens, tok)
		}
	}
	switch strings.ToLower(c.Log.Level) {
	case "", "debug", "info", "warn", "error":
	default:
		add("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	switch strings.ToLower(c.Log.Format) {
	case "", "text", "json":
	default:
		add("log.format: %q is not text or json", c.Log.Format)
	}
	if c.Limits.MaxEventSize > 0 && c.Limits.MaxEventSize > 64<<20 {
		add("limits.max_event_size: at most 64MiB")
	}
	if err := notNegative([]keyValue{
		{"limits.max_body", int64(c.Limits.MaxBody)}, {"limits.max_event_size", int64(c.Limits.MaxEventSize)},
		{"limits.max_stream_body", int64(c.Limits.MaxStreamBody)}, {"limits.max_concurrent", int64(c.Limits.MaxConcurrent)},
		{"limits.max_streams", int64(c.Limits.MaxStreams)}, {"limits.max_ingest", int64(c.Limits.MaxIngest)},
		{"limits.max_per_token", int64(c.Limits.MaxPerToken)}, {"retention.max_bytes", int64(c.Retention.MaxBytes)},
	}); err != nil {
		errs = append(errs, err)
	}
	reg := c.registry()
	seen := map[string]bool{}
	for i, t := range c.Transports {
		where := fmt.Sprintf("transports[%d]", i)
		if t.Name != "" {
			where += " (" + t.Name + ")"
		}
		if !routeName.MatchString(t.Name) {
			add("%s: name %q: use 1-64 letters, digits, '_' or '-'", where, t.Name)
		} else if seen[t.Name] {
			add("%s: name used twice", where)
		}
		seen[t.Name] = true
		if err := t.validate(reg); err != nil {
			add("%s: %w", where, err)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

func (t Token) resolve(i int) (server.Token, error) {
	name := t.Name
	if name == "" {
		name = fmt.Sprintf("token-%d", i+1)
	}
	n := 0
	secret := t.Token
	for _, s := range []string{t.Token, t.TokenEnv, t.TokenFile} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return server.Token{}, errors.New("give exactly one of token, token_env, token_file")
	}
	switch {
	case t.TokenEnv != "":
		secret = os.Getenv(t.TokenEnv)
		if secret == "" {
			return server.Token{}, fmt.Errorf("environment variable %s is empty", t.TokenEnv)
		}
	case t.TokenFile != "":
		b, err := os.ReadFile(t.TokenFile)
		if err != nil {
			return server.Token{}, err
		}
		secret = strings.TrimSpace(string(b))
	}
	scopes := make([]server.Scope, 0, len(t.Scopes))
	for _, s := range t.Scopes {
		sc, err := server.ParseScope(s)
		if err != nil {
			return server.Token{}, err
		}
		scopes = append(scopes, sc)
	}
	return server.NewToken(name, secret, scopes...)
}

// ServerTokens returns the resolved tokens (after Validate).
func (c *Config) ServerTokens() []server.Token { return c.tokens }

// SyncPolicy returns the journal sync policy Sync names.
func (c *Config) SyncPolicy() (eventgate.SyncPolicy, error) { return ParseSync(c.Sync) }

// ParseSync reads "always", "never" or "interval:<duration>" ("" is always).
func ParseSync(s string) (eventgate.SyncPolicy, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch {
	case s == "" || s == "always":
		return eventgate.SyncAlways, nil
	case s == "never":
		return eventgate.SyncNever, nil
	case strings.HasPrefix(s, "interval:"):
		d, err := parseDuration(strings.TrimPrefix(s, "interval:"))
		if err != nil || d <= 0 {
			return eventgate.SyncAlways, fmt.Errorf("%q: want interval:<positive duration>", s)
		}
		return eventgate.SyncInterval(d), nil
	}
	return eventgate.SyncAlways, fmt.Errorf("%q is not always, never or interval:<duration>", s)
}

// ListenAddr returns Listen or its default.
func (c *Config) ListenAddr() string {
	if c.Listen == "" {
		return DefaultListen
	}
	return c.Listen
}

// Drain returns DrainTimeout or its default.
func (c *Config) Drain() time.Duration {
	if c.DrainTimeout <= 0 {
		return DefaultDrainTimeout
	}
	return c.DrainTimeout.D()
}

// DataDir returns Dir, or eventgate.DefaultDir() when it is empty.
func (c *Config) DataDir() string {
	if c.Dir == "" {
		return eventgate.DefaultDir()
	}
	return c.Dir
}

// ServerOptions returns the server options the configuration describes
// (tokens resolved by Validate; logger from Logger).
func (c *Config) ServerOptions() server.Options {
	return server.Options{
		Tokens:            c.tokens,
		NoAuth:            c.Auth.Disabled,
		PublicMetrics:     c.Auth.PublicMetrics,
		MaxBody:           int64(c.Limits.MaxBody),
		MaxStreamBody:     int64(c.Limits.MaxStreamBody),
		MaxEventSize:      int(c.Limits.MaxEventSize),
		MaxConcurrent:     c.Limits.MaxConcurrent,
		MaxStreams:        c.Limits.MaxStreams,
		MaxIngest:         c.Limits.MaxIngest,
		MaxPerToken:       c.Limits.MaxPerToken,
		MinUploadRate:     c.Limits.MinUploadRate,
		BacklogWait:       c.Limits.BacklogWait.D(),
		ReadHeaderTimeout: c.Timeouts.ReadHeader.D(),
		ReadTimeout:       c.Timeouts.Read.D(),
		WriteTimeout:      c.Timeouts.Write.D(),
		IdleTimeout:       c.Timeouts.Idle.D(),
		Logger:            c.Logger,
	}
}

// IsLoopback reports whether the host of a listen address is a loopback
// address ("localhost", 127.0.0.0/8, ::1). An empty host (all interfaces)
// is not.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// keyValue is a configuration key and its numeric value, for notNegative.
type keyValue struct {
	key string
	v   int64
}

// notNegative refuses each negative value, naming its key.
func notNegative(kvs []keyValue) error {
	var errs []error
	for _, kv := range kvs {
		if kv.v < 0 {
			errs = append(errs, fmt.Errorf("%s: %d is negative; leave it out (or 0) for the default", kv.key, kv.v))
		}
	}
	return errors.Join(errs...)
}
