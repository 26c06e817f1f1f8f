package config

import "github.com/example/newsletter"

// Bounces says where bounces and complaints come back, and which provider
// webhooks `newsletter serve` accepts.
type Bounces struct {
	// ReturnPath turns on VERP: bounces@example.org makes each message's
	// envelope sender bounces+TOKEN@example.org.
	ReturnPath string `toml:"return_path"`
	// IMAP is the mailbox `bounces fetch` reads, such as
	// imaps://bounces@mail.example.org/INBOX; the password comes from
	// NEWSLETTER_IMAP_PASSWORD.
	IMAP string `toml:"imap"`
	// CAFile trusts a private CA for the IMAP server.
	CAFile string `toml:"ca_file"`
	// SoftLimit is how many campaigns with a soft bounce mark an address
	// bounced; 0 means newsletter.SoftBounceLimit (3).
	SoftLimit int `toml:"soft_limit"`
	// SNSTopics are the Amazon SNS topic ARNs whose SES notifications
	// /webhooks/ses accepts; none turns the endpoint off.
	SNSTopics []string `toml:"sns_topics"`
	// MailgunSigningKey turns on /webhooks/mailgun; env
	// NEWSLETTER_MAILGUN_SIGNING_KEY overrides it.
	MailgunSigningKey string `toml:"mailgun_signing_key"`
}

// check refuses a [bounces] value out of range, naming the setting.
func (b Bounces) check(file string) error {
	if b.SoftLimit < 0 || b.SoftLimit > 100 {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: bounces.soft_limit = %d is out of range: use 1 to 100 (0 or unset: 3)", file, b.SoftLimit)
	}
	return nil
}
