// Package config turns the daemon's YAML file and EVENTGATE_* environment
// into a Gateway, an HTTP server's options, and transports built from URLs.
//
// A file (every key optional; unknown keys are errors):
//
//	dir: /var/lib/eventgate          # default $EVENTGATE_DIR, $AGENT_LOG_DIR, ./logs/sessions
//	sync: always                     # always | never | interval:100ms
//	listen: 127.0.0.1:8080
//	tls: {cert: /etc/eventgate/cert.pem, key: /etc/eventgate/key.pem}
//	auth:
//	  tokens:
//	    - {name: producers, token_env: EVENTGATE_INGEST_TOKEN, scopes: [ingest]}
//	    - {name: ops, token_file: /etc/eventgate/ops.token, scopes: [read, admin]}
//	limits: {max_body: 16MiB, max_event_size: 1MiB, max_concurrent: 256}
//	drain_timeout: 10s
//	dedup: {window: 24h, max_keys: 1000000}  # idempotent ingest by event id; {disabled: true} turns it off
//	transports:
//	  - name: redis
//	    url: redis://127.0.0.1:6379/0?stream=agent_events
//	    wrappers:
//	      timeout: 5s
//	      breaker: {failures: 5, open_timeout: 30s}
//	      retry: {max_attempts: 3, initial: 100ms, max: 2s}
//	    route:
//	      workers: 4
//	      batch: {max_events: 100, max_bytes: 1MiB, linger: 5ms}
//	      retry: {initial: 200ms, max: 30s}
//	      backlog: {bytes: 1GiB, policy: block}
//
// Use:
//
//	cfg, err := config.Load("eventgate.yaml") // file, then the environment, then Validate
//	if err != nil {
//		return err
//	}
//	if _, err := cfg.Check(ctx, 5*time.Second); err != nil { // optional: connect to each transport
//		return err
//	}
//	gw, err := cfg.Open(ctx)
//	if err != nil {
//		return err
//	}
//	defer gw.Close(context.Background())
//	srv, err := server.New(gw, cfg.ServerOptions())
//
// Transports are chosen by URL scheme through a Registry (DefaultRegistry
// lists the built-in ones); the route's name becomes the transport's name.
package config
