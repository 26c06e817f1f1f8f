package config

import (
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
	Site        Site        `toml:"site"`
	Transport   Transport   `toml:"transport"`
	Unsubscribe Unsubscribe `toml:"unsubscribe"`
	DKIM        DKIM        `toml:"dkim"`
	Templates   Templates   `toml:"templates"`
	Schedules   []Schedule  `toml:"schedule"`
	Articles    Articles    `toml:"articles"`
	Feeds       []Feed      `toml:"feed"`
	Signup      Signup      `toml:"signup"`
	Bounces     Bounces     `toml:"bounces"`

	path string // the file it came from, "" for the defaults
}

// Site describes the organisation that sends.
type Site struct {
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

// ArchiveOn reports whether serve shows the web archive.
func (s Site) ArchiveOn() bool { return s.Archive == nil || *s.Archive }

// Transport says how mail leaves.
type Transport struct {
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

// Unsubscribe holds the secret that signs subscriber links.
type Unsubscribe struct {
	Secret string `toml:"secret"`
	Mailto string `toml:"mailto"`
}

// DKIM enables DKIM signing when Domain is set.
type DKIM struct {
	Domain         string `toml:"domain"`
	Selector       string `toml:"selector"`
	PrivateKeyFile string `toml:"private_key_file"`
}

// Signup limits the confirmation mails of the sign-up form that
// `serve` answers; zero takes the default.
type Signup struct {
	ClientPerHour int    `toml:"client_per_hour"` // per client address; default 5
	TotalPerHour  int    `toml:"total_per_hour"`  // from all clients; default 100
	ClientHeader  string `toml:"client_header"`   // set by a trusted proxy, e.g. X-Forwarded-For
}

// Templates names a directory whose files override the embedded
// templates.
type Templates struct {
	Dir string `toml:"dir"`
}

// Schedule is one [[schedule]] entry.
type Schedule struct {
	Name       string   `toml:"name"`
	Cron       string   `toml:"cron"`
	Timezone   string   `toml:"timezone"`
	List       string   `toml:"list"`
	Kind       string   `toml:"kind"`
	Categories []string `toml:"categories"`
	Lookback   string   `toml:"lookback"`
}

// defaultConfig is what runs when there is no newsletter.toml.
func Default() *Config {
	return &Config{
		Site: Site{
			Name:      "Example News",
			URL:       "https://example.org",
			From:      "Example News <news@example.org>",
			PublicURL: "http://localhost:8080",
		},
		Transport: Transport{URL: "file://outbox", Concurrency: 4, Retries: 5},
	}
}

// Load reads path over the defaults. An explicit path must exist; the
// implicit newsletter.toml is used only when it exists.
func Load(path string, explicit bool) (*Config, error) {
	cfg := Default()
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
		return nil, unknownSetting(path, keys)
	}
	cfg.path = path
	return cfg, cfg.validate()
}

func (c *Config) validate() error {
	name := c.path
	if err := c.checkRanges(); err != nil {
		return err
	}
	if err := c.Signup.check(name); err != nil {
		return err
	}
	if err := c.Bounces.check(name); err != nil {
		return err
	}
	if c.Transport.Concurrency == 0 {
		c.Transport.Concurrency = 4
	}
	if _, err := c.ParsedSchedules(); err != nil {
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

// ParsedSchedules returns the validated [[schedule]] entries.
func (c *Config) ParsedSchedules() ([]*schedule.Schedule, error) {
	entries := make([]schedule.Entry, len(c.Schedules))
	for i, s := range c.Schedules {
		entries[i] = schedule.Entry{Name: s.Name, Cron: s.Cron, Timezone: s.Timezone, List: s.List, Kind: s.Kind, Categories: s.Categories, Lookback: s.Lookback}
	}
	return schedule.Parse(entries)
}

// check refuses [signup] values outside a sane range, naming the setting.
func (c Signup) check(file string) error {
	for _, v := range []struct {
		name  string
		value int
	}{{"signup.client_per_hour", c.ClientPerHour}, {"signup.total_per_hour", c.TotalPerHour}} {
		if v.value < 0 || v.value > 1000000 {
			return newsletter.Errorf(newsletter.EINVALID, "config %s: %s must be between 1 and 1000000 (0 or unset: the default)", file, v.name)
		}
	}
	if h := c.ClientHeader; h != "" && strings.ContainsAny(h, " :\t\r\n") {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: signup.client_header %q must be a header name, such as X-Forwarded-For", file, h)
	}
	return nil
}

// Path returns the file the configuration came from, "" for the defaults.
func (c *Config) Path() string { return c.path }
