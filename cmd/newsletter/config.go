package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/example/newsletter"
	"github.com/example/newsletter/schedule"
)

// Config is newsletter.toml. Zero values take the defaults below.
type Config struct {
	Site        SiteConfig        `toml:"site"`
	Transport   TransportConfig   `toml:"transport"`
	Unsubscribe UnsubscribeConfig `toml:"unsubscribe"`
	DKIM        DKIMConfig        `toml:"dkim"`
	Templates   TemplatesConfig   `toml:"templates"`
	Schedules   []ScheduleConfig  `toml:"schedule"`
	Articles    ArticlesConfig    `toml:"articles"`
	Feeds       []FeedConfig      `toml:"feed"`
	Bounces     BouncesConfig     `toml:"bounces"`

	path string // the file it came from, "" for the defaults
}

// SiteConfig describes the organisation that sends.
type SiteConfig struct {
	Name      string `toml:"name"`
	URL       string `toml:"url"`
	From      string `toml:"from"`
	ReplyTo   string `toml:"reply_to"`
	PublicURL string `toml:"public_url"`
	Address   string `toml:"address"`
}

// TransportConfig says how mail leaves.
type TransportConfig struct {
	URL          string   `toml:"url"`
	Concurrency  int      `toml:"concurrency"`
	Rate         float64  `toml:"rate"`
	Retries      int      `toml:"retries"`
	RetryBackoff Duration `toml:"retry_backoff"`
	// CAFile trusts a private CA (or a self-signed relay) for TLS.
	CAFile         string   `toml:"ca_file"`
	QueueLifetime  Duration `toml:"queue_lifetime"`
	ConnectTimeout Duration `toml:"connect_timeout"`
	CommandTimeout Duration `toml:"command_timeout"`
	DataTimeout    Duration `toml:"data_timeout"`
	StopGrace      Duration `toml:"stop_grace"`
}

// BouncesConfig says where bounces and complaints come back, and which
// provider webhooks `newsletter serve` accepts.
type BouncesConfig struct {
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
	// bounced; 0 means 3.
	SoftLimit int `toml:"soft_limit"`
	// SNSTopics are the Amazon SNS topic ARNs whose SES notifications
	// /webhooks/ses accepts; none turns the endpoint off.
	SNSTopics []string `toml:"sns_topics"`
	// MailgunSigningKey turns on /webhooks/mailgun; env
	// NEWSLETTER_MAILGUN_SIGNING_KEY overrides it.
	MailgunSigningKey string `toml:"mailgun_signing_key"`
}

// Duration is a setting written like "30s", "15m" or "72h".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write it like \"30s\", \"15m\" or \"72h\"", b)
	}
	d.Duration = v
	return nil
}

// UnsubscribeConfig holds the secret that signs subscriber links.
type UnsubscribeConfig struct {
	Secret string `toml:"secret"`
	Mailto string `toml:"mailto"`
}

// DKIMConfig enables DKIM signing when Domain is set.
type DKIMConfig struct {
	Domain         string `toml:"domain"`
	Selector       string `toml:"selector"`
	PrivateKeyFile string `toml:"private_key_file"`
}

// TemplatesConfig names a directory whose files override the embedded
// templates.
type TemplatesConfig struct {
	Dir string `toml:"dir"`
}

// ScheduleConfig is one [[schedule]] entry.
type ScheduleConfig struct {
	Name       string   `toml:"name"`
	Cron       string   `toml:"cron"`
	Timezone   string   `toml:"timezone"`
	List       string   `toml:"list"`
	Kind       string   `toml:"kind"`
	Categories []string `toml:"categories"`
	Lookback   string   `toml:"lookback"`
}

// defaultConfig is what runs when there is no newsletter.toml.
func defaultConfig() *Config {
	return &Config{
		Site: SiteConfig{
			Name:      "Example News",
			URL:       "https://example.org",
			From:      "Example News <news@example.org>",
			PublicURL: "http://localhost:8080",
		},
		Transport: TransportConfig{URL: "file://outbox", Concurrency: 4, Retries: 5},
	}
}

// loadConfig reads path over the defaults. An explicit path must exist; the
// implicit newsletter.toml is used only when it exists.
func loadConfig(path string, explicit bool) (*Config, error) {
	cfg := defaultConfig()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return cfg, nil
	} else if err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "config %s: %w", path, newsletter.PathCause(err))
	}
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, newsletter.Errorf(newsletter.EINVALID, "config %s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, newsletter.Errorf(newsletter.EINVALID, "config %s: %w", path, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		keys := make([]string, len(undec))
		for i, k := range undec {
			keys[i] = k.String()
		}
		return nil, newsletter.Errorf(newsletter.EINVALID, "config %s: unknown setting %s", path, strings.Join(keys, ", "))
	}
	cfg.path = path
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	name := c.path
	if c.Transport.Concurrency < 0 {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: transport.concurrency must be 1 or more", name)
	}
	if c.Transport.Rate < 0 {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: transport.rate must be 0 (unlimited) or more", name)
	}
	if c.Transport.Concurrency == 0 {
		c.Transport.Concurrency = 4
	}
	if _, err := c.schedules(); err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: %s", name, newsletter.ErrorMessage(err))
	}
	if err := c.validateFeeds(); err != nil {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: %s", name, newsletter.ErrorMessage(err))
	}
	if c.Bounces.SoftLimit < 0 {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: bounces.soft_limit must be 1 or more (0 for the default, 3)", name)
	}
	if c.Unsubscribe.Secret != "" {
		if b, err := hex.DecodeString(c.Unsubscribe.Secret); err != nil || len(b) < 16 {
			return newsletter.Errorf(newsletter.EINVALID, "config %s: unsubscribe.secret must be at least 32 hex digits (init writes 64)", name)
		}
	}
	return nil
}

// schedules returns the validated [[schedule]] entries.
func (c *Config) schedules() ([]*schedule.Schedule, error) {
	entries := make([]schedule.Entry, len(c.Schedules))
	for i, s := range c.Schedules {
		entries[i] = schedule.Entry{Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, List: s.List, Kind: s.Kind, Categories: s.Categories, Lookback: s.Lookback}
	}
	return schedule.Parse(entries)
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

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
# A postal address for the footer (CAN-SPAM asks for one); optional.
address = ""

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

// renderConfigTemplate returns the init file with a fresh secret.
func renderConfigTemplate() string {
	return fmt.Sprintf(configTemplate, newSecret())
}
