// Package mailer builds campaign messages (RFC 5322, multipart/alternative,
// list headers, DKIM) with go-mail and go-msgauth, and sends them: the
// transports (SMTP with PIPELINING and one write per message, a file
// outbox), the reading of SMTP replies by enhanced status code into a
// Reason, and the Sender with its worker pool, rate limit, retries, circuit
// breaker and one log writer, which writes every result back to a
// newsletter.DeliveryLog. It knows nothing of campaigns beyond their id: the
// campaign package gives it a Composer for each reader's message.
package mailer
