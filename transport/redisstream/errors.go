package redisstream

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/eventgate/eventgate"
	"github.com/redis/go-redis/v9"
)

// Error replies of the server, by their first word, and the kind each maps to.
// Replies not listed are KindRejected: the server refused this command for
// good (a syntax or argument error), and sending it again gives the same
// answer.
//
//	OOM          KindThrottled  maxmemory reached; retry once memory is freed
//	BUSY         KindThrottled  a script or module command is blocking the server
//	LOADING      KindConnection the server is loading its data set after a restart
//	MASTERDOWN   KindConnection a replica lost its master
//	READONLY     KindConnection the node is a replica (failover in progress)
//	TRYAGAIN     KindConnection cluster slot migration in progress
//	CLUSTERDOWN  KindConnection the cluster cannot serve
//	MISCONF      KindConnection the server refuses writes after a failed RDB save
//	NOREPLICAS   KindConnection not enough replicas acknowledged
//	ERR max number of clients reached   KindThrottled
//	WRONGTYPE    KindUnavailable the stream key holds another data type
//	NOAUTH       KindUnavailable authentication required
//	WRONGPASS    KindUnavailable wrong user name or password
//	NOPERM       KindUnavailable the ACL user may not run XADD on this key
//
// KindUnavailable refuses every event until an operator fixes the server or
// the configuration: the route pauses and resumes by itself afterwards.
var replyKinds = map[string]eventgate.Kind{
	"OOM":         eventgate.KindThrottled,
	"BUSY":        eventgate.KindThrottled,
	"LOADING":     eventgate.KindConnection,
	"MASTERDOWN":  eventgate.KindConnection,
	"READONLY":    eventgate.KindConnection,
	"TRYAGAIN":    eventgate.KindConnection,
	"CLUSTERDOWN": eventgate.KindConnection,
	"MISCONF":     eventgate.KindConnection,
	"NOREPLICAS":  eventgate.KindConnection,
	"WRONGTYPE":   eventgate.KindUnavailable,
	"NOAUTH":      eventgate.KindUnavailable,
	"WRONGPASS":   eventgate.KindUnavailable,
	"NOPERM":      eventgate.KindUnavailable,
}

// kindOf classifies an error returned by the Redis client.
//
// Server error replies are classified by replyKinds. Everything else is a
// failure to talk to the server: timeouts (socket deadlines, ctx deadlines,
// pool waits) are KindTimeout; refused, reset and dropped connections
// (including io.EOF from a connection the server closed) are KindConnection;
// TLS handshake and certificate failures are KindConnection too; a closed
// client is KindClosed; the rest is left to eventgate.Classify.
func kindOf(err error) eventgate.Kind {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return replyKind(rerr.Error())
	}
	switch {
	case errors.Is(err, redis.ErrClosed):
		return eventgate.KindClosed
	case errors.Is(err, redis.ErrPoolTimeout):
		return eventgate.KindTimeout
	case errors.Is(err, context.DeadlineExceeded):
		return eventgate.KindTimeout
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return eventgate.KindConnection
	case isTLSError(err):
		// A certificate the client does not trust, or a server that does
		// not speak TLS: the connection cannot be made until the operator
		// fixes one side, after which delivery resumes by itself.
		return eventgate.KindConnection
	}
	return eventgate.Classify(err)
}

// isTLSError reports whether err is a TLS handshake or certificate failure.
func isTLSError(err error) bool {
	var (
		verr *tls.CertificateVerificationError
		rerr tls.RecordHeaderError
		aerr tls.AlertError
		uerr x509.UnknownAuthorityError
		herr x509.HostnameError
		cerr x509.CertificateInvalidError
	)
	return errors.As(err, &verr) || errors.As(err, &rerr) || errors.As(err, &aerr) ||
		errors.As(err, &uerr) || errors.As(err, &herr) || errors.As(err, &cerr)
}

// replyKind classifies a server error reply by its first word.
func replyKind(msg string) eventgate.Kind {
	if strings.HasPrefix(msg, "ERR max number of clients reached") {
		return eventgate.KindThrottled
	}
	word, _, _ := strings.Cut(msg, " ")
	if k, ok := replyKinds[word]; ok {
		return k
	}
	return eventgate.KindRejected
}

// isReply reports whether err is an error reply from the server (as opposed
// to a failure to reach it).
func isReply(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr)
}

// wrap turns a client error into a *eventgate.TransportError of the right
// kind, with context saying what was being done.
func (t *Transport) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return eventgate.NewError(t.cfg.Name, kindOf(err), fmt.Errorf("redisstream: %s: %w", op, err))
}
