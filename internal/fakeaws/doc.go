// Package fakeaws holds in-process HTTP servers that speak the wire protocols
// of two AWS services closely enough for eventgate's tests to drive the
// official aws-sdk-go-v2 clients against them:
//
//   - SQS over AWS JSON 1.0 (POST / with X-Amz-Target: AmazonSQS.<Operation>):
//     CreateQueue, GetQueueUrl, SendMessage, SendMessageBatch, ReceiveMessage,
//     DeleteMessage and DeleteMessageBatch.
//   - CloudWatch Logs over AWS JSON 1.1 (X-Amz-Target: Logs_20140328.<Operation>):
//     CreateLogGroup, CreateLogStream, PutLogEvents, GetLogEvents and
//     FilterLogEvents.
//
// The servers validate requests the way the services document it for every
// limit eventgate's transports rely on (message and batch sizes, entry counts,
// attribute rules, FIFO parameters, chronological order and time span of log
// batches) and answer with the services' error shapes, so a test that passes
// here exercises the client path for real. They are not emulators: only the
// calls above exist, there is no IAM (a SigV4 Authorization header is required
// but its signature is not checked), and nothing is persisted.
//
// Every server can inject failures (Server.FailNext, Server.SetOutage) and be
// stopped and restarted on the same address (Server.Stop, Server.Restart) to
// test outages. This package imports no AWS code.
package fakeaws
