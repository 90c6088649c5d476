package config

import (
	"log/slog"

	"github.com/eventgate/eventgate"
	"github.com/eventgate/eventgate/transport/amqp"
	"github.com/eventgate/eventgate/transport/cloudwatch"
	"github.com/eventgate/eventgate/transport/gcplogging"
	"github.com/eventgate/eventgate/transport/httpx"
	"github.com/eventgate/eventgate/transport/kafka"
	"github.com/eventgate/eventgate/transport/mongo"
	"github.com/eventgate/eventgate/transport/mqtt"
	"github.com/eventgate/eventgate/transport/nats"
	"github.com/eventgate/eventgate/transport/postgres"
	"github.com/eventgate/eventgate/transport/redisstream"
	"github.com/eventgate/eventgate/transport/sqs"
)

// network registers a transport package by its ParseURL and New: the
// configuration's route name becomes the transport's name, and the logger
// its logger.
func network[C any, T eventgate.Transport](r Registry, parse func(string) (C, error), set func(*C, string, *slog.Logger),
	build func(C) (T, error), schemes ...string) {
	sc := Scheme{
		Validate: func(raw string) error { _, err := parse(raw); return err },
		New: func(name, raw string, log *slog.Logger) (eventgate.Transport, error) {
			cfg, err := parse(raw)
			if err != nil {
				return nil, err
			}
			set(&cfg, name, log)
			return build(cfg)
		},
	}
	for _, s := range schemes {
		r[s] = sc
	}
}

func addNetwork(r Registry) {
	network(r, httpx.ParseURL, func(c *httpx.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		httpx.New, "http", "https")
	network(r, redisstream.ParseURL, func(c *redisstream.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		redisstream.New, "redis", "rediss")
	network(r, kafka.ParseURL, func(c *kafka.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		kafka.New, "kafka", "kafkas")
	network(r, amqp.ParseURL, func(c *amqp.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		amqp.New, "amqp", "amqps")
	network(r, nats.ParseURL, func(c *nats.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		nats.New, "nats", "tls")
	network(r, sqs.ParseURL, func(c *sqs.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		sqs.New, "sqs")
	network(r, postgres.ParseURL, func(c *postgres.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		postgres.New, "postgres", "postgresql")
	network(r, mongo.ParseURL, func(c *mongo.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		mongo.New, "mongodb", "mongodb+srv")
	network(r, cloudwatch.ParseURL, func(c *cloudwatch.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		cloudwatch.New, "cloudwatch")
	network(r, gcplogging.ParseURL, func(c *gcplogging.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		gcplogging.New, "gcplogging")
	network(r, mqtt.ParseURL, func(c *mqtt.Config, n string, l *slog.Logger) { c.Name, c.Logger = n, l },
		mqtt.New, "mqtt", "mqtts")
}
