// Package bounces turns the reports that arrive after the relay accepted a
// message — delivery status notifications (RFC 3464), spam complaints in
// the Abuse Reporting Format (RFC 5965), the common non-standard bounces,
// and provider webhooks — into events on the delivery they are about.
//
// Every message names its delivery in its envelope sender (VERP): the
// return path bounces@example.org becomes bounces+TOKEN@example.org, where
// TOKEN is the delivery id and a MAC made with the link secret, so a forged
// bounce cannot mark anyone. A report without a token is matched by the
// original Message-ID it quotes, and only when the recipient it names is
// the delivery's.
//
// Sources — a message file, a maildir, an mbox, standard input (ReadPath),
// an IMAP mailbox (Fetch) and webhooks — all go through Processor.Process.
// The rule that decides what a report changes is newsletter.DecideBounce;
// the store records each report once, so reading the same report twice
// changes nothing more.
package bounces
