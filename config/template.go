package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/atomicfile"
)

// newSecret returns 32 random bytes as hex.
func newSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b)
}

// configTemplate is what `newsletter init` writes.
const configTemplate = `# newsletter.toml — settings of the newsletter tool.
# Flags override environment variables, which override this file.

[site]
# The organisation's name: in subjects, the List-Id and every footer.
name = "Example News"
# The site's address: article links are made absolute against it.
url = "https://example.org"
# Who the mail is from. Use a domain whose SPF, DKIM and DMARC you control.
from = "Example News <news@example.org>"
# Optional Reply-To address.
reply_to = ""
# Where "newsletter serve" is reachable: unsubscribe and preference links
# point here.
public_url = "https://news.example.org"
# REQUIRED before you mail real readers: the organisation's postal address,
# printed in every footer. CAN-SPAM requires one; "digest" warns without it.
address = ""                  # <- fill in, e.g. "1 Chapel Square, Millbrook AB1 2CD"
# Optional: a logo (absolute image URL, about 48 px high) shown instead of
# the name at the top of each mail, and the colour (#rrggbb, dark enough for
# white text on it) of the masthead, links and buttons.
# logo = "https://example.org/logo.png"
# brand_color = "#1f4e79"
# Put the name before every subject too ("Example News: ..."); the From
# already shows it.
name_in_subject = false
# Serve the web archive of past issues (/, /archive, /feed.xml).
archive = true

[transport]
# Where mail goes (env NEWSLETTER_TRANSPORT, flag --transport):
#   file://DIR                      write .eml files under DIR (no server needed)
#   smtp://USER:PASS@HOST:587       SMTP with STARTTLS (?tls=opportunistic|insecure|none)
#   smtps://USER:PASS@HOST:465      SMTP over implicit TLS
# A password may come from env NEWSLETTER_SMTP_PASSWORD instead.
url = "file://outbox"
# SMTP connections used at once (flag --concurrency).
concurrency = 4
# Messages per second over all connections; 0 is unlimited (flag --rate).
rate = 0
# Attempts after a temporary failure before a delivery fails (flag --retries).
retries = 5
# The first wait before a retry; it doubles each time, up to a minute.
retry_backoff = "1s"
# A delivery whose temporary failures outlast the retries is deferred: the
# next run (or the scheduler, every 15 minutes) tries again, for this long
# after the campaign began; then it fails.
queue_lifetime = "72h"
# Trust this CA (PEM) for STARTTLS and smtps://, for a relay with a private
# or self-signed certificate. ?tls=insecure skips verification instead.
# ca_file = "relay-ca.pem"
# Timeouts: connecting (through greeting, TLS and AUTH), each command, and
# the server's answer after a whole message.
connect_timeout = "30s"
command_timeout = "60s"
data_timeout = "120s"
# After SIGTERM or Ctrl-C, how long messages in flight may take to finish.
stop_grace = "10s"

[unsubscribe]
# Signs unsubscribe and preference links. Keep it secret; changing it
# breaks the links in mail already sent.
secret = "%s"
# Optional mailbox for List-Unsubscribe mailto: requests.
mailto = ""

# DKIM signing; leave commented out to send unsigned.
# [dkim]
# domain = "example.org"
# selector = "news"
# private_key_file = "dkim.pem"

# [templates]
# A directory whose files override the built-in templates by name
# ("newsletter templates export DIR" writes the defaults to start from).
# dir = "templates"

# [articles]
# The largest article file or feed item taken (default 1 MB).
# max_size = "1 MB"

# Feeds polled by "newsletter feeds fetch", and by each schedule before its
# digest: every new item becomes an article, an edited one is updated.
# [[feed]]
# name = "blog"
# url = "https://example.org/feed.xml"
# categories = ["Blog"]        # added to every item's own
# list = ""                    # only the schedules of this list fetch it; "" for all

# Bounces and complaints that come back after the relay accepted a message.
# [bounces]
# VERP: each message's envelope sender becomes bounces+TOKEN@example.org, so
# a bounce names the delivery. Route bounces+* to a mailbox (see README).
# return_path = "bounces@example.org"
# The mailbox "newsletter bounces fetch" reads (and the scheduler, before
# each send); the password comes from env NEWSLETTER_IMAP_PASSWORD.
# imap = "imaps://bounces@mail.example.org/INBOX"
# Soft bounces on this many campaigns mark an address bounced.
# soft_limit = 3
# Webhooks of "newsletter serve": SES through SNS (these topics only) and
# Mailgun (env NEWSLETTER_MAILGUN_SIGNING_KEY).
# sns_topics = ["arn:aws:sns:eu-west-1:123456789012:ses-bounces"]
# mailgun_signing_key = ""

# A weekly digest, run by "newsletter schedule" (or --once from cron).
[[schedule]]
name = "weekly"
cron = "0 9 * * MON"          # standard 5-field cron
timezone = "Europe/London"    # IANA time zone of the cron line
list = "newsletter"
kind = "digest"
`

// Template returns the init file with a fresh secret.
func Template() string {
	return fmt.Sprintf(configTemplate, newSecret())
}

// WriteTemplate writes the file `newsletter init` makes to path, with a
// fresh secret. An existing file is an error unless force: its secret signs
// the links in mail already sent.
func WriteTemplate(path string, force bool) error {
	if _, err := os.Stat(path); err == nil && !force {
		return newsletter.Errorf(newsletter.ECONFLICT, "%s exists; use --force to overwrite it (its unsubscribe secret will change)", path)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return newsletter.Errorf(newsletter.EINVALID, "%s: %w", path, newsletter.PathCause(err))
	}
	if err := atomicfile.Write(path, []byte(Template()), 0o600); err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "write %s: %w", path, newsletter.PathCause(err))
	}
	return nil
}
