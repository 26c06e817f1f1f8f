// Package mailer builds campaign messages (RFC 5322, multipart/alternative,
// list headers, DKIM) with go-mail, and sends them: the transports (SMTP and
// a file outbox) and the campaign sender with its worker pool, rate limit
// and retries, which writes every result back to the delivery log.
package mailer
