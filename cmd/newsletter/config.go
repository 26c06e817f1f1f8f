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
	// Logo is an image URL shown in the mail's masthead instead of the name.
	Logo string `toml:"logo"`
	// BrandColor (#rrggbb) colours the masthead, links and buttons.
	BrandColor string `toml:"brand_color"`
	// NameInSubject puts the site name before each subject.
	NameInSubject bool `toml:"name_in_subject"`
	// Archive serves past issues under / and /archive; default on.
	Archive *bool `toml:"archive"`
}

// archive reports whether serve shows the web archive.
func (s SiteConfig) archive() bool { return s.Archive == nil || *s.Archive }

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
