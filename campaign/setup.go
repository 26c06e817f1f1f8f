package campaign

import (
	"context"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/config"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

// Setup is what New needs besides the configuration and the store.
type Setup struct {
	// TemplatesDir overrides templates.dir when set.
	TemplatesDir string
	// Transport, when Sending, overrides transport.url when set.
	Transport string
	// Sending parses the transport, so that a wrong one is reported before
	// anything else happens; a preview needs none.
	Sending bool
	// Serving is `newsletter serve`: it sends confirmation mails, not
	// campaigns, so the postal-address warning does not apply.
	Serving bool
	// Concurrency, when above 0, overrides transport.concurrency; Rate and
	// Retries, when set, override transport.rate and transport.retries.
	Concurrency int
	Rate        *float64
	Retries     *int
	Now         func() time.Time
	Logger      *slog.Logger
}

// New builds a Service from the configuration: the renderer, the message
// builder (with DKIM when configured), the link signer and, when sending,
// the transport with its TLS and timeout settings.
func New(ctx context.Context, cfg *config.Config, db *sqlite.DB, su Setup) (*Service, error) {
	log := su.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dir := cfg.Templates.Dir
	if su.TemplatesDir != "" {
		dir = su.TemplatesDir
	}
	r, err := templates.New(templates.Site{Name: cfg.Site.Name, URL: cfg.Site.URL, Address: cfg.Site.Address,
		Logo: cfg.Site.Logo, Brand: cfg.Site.BrandColor, NameInSubject: cfg.Site.NameInSubject}, templates.WithDir(dir))
	if err != nil {
		return nil, err
	}
	opts := []mailer.BuilderOption{mailer.WithReplyTo(cfg.Site.ReplyTo), mailer.WithDKIM(cfg.DKIM.Domain, cfg.DKIM.Selector, cfg.DKIM.PrivateKeyFile)}
	if su.Now != nil {
		opts = append(opts, mailer.WithClock(su.Now))
	}
	b, err := mailer.NewBuilder(cfg.Site.From, cfg.Site.Name, opts...)
	if err != nil {
		return nil, err
	}
	signer, err := linkSigner(ctx, cfg, db)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(cfg.Site.PublicURL); err != nil || u.Host == "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "site.public_url %q must be an absolute URL, like https://news.example.org", cfg.Site.PublicURL)
	} else if u.Scheme != "https" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" {
		log.Warn("site.public_url is not HTTPS: mailbox providers ignore one-click unsubscribe (RFC 8058) without it", "public_url", cfg.Site.PublicURL)
	}
	t := cfg.Transport
	s := &Service{cfg: cfg, DB: db, Renderer: r, Builder: b, Signer: signer, Options: Options{
		PublicURL:         cfg.Site.PublicURL,
		UnsubscribeMailto: cfg.Unsubscribe.Mailto,
		NoArchive:         !cfg.Site.ArchiveOn(),
		Concurrency:       t.Concurrency,
		Rate:              t.Rate,
		Retries:           t.Retries,
		RetryBackoff:      t.RetryBackoff.Duration,
		Grace:             t.StopGrace.Duration,
		QueueLifetime:     t.QueueLifetime.Duration,
		Now:               su.Now,
		Logger:            log,
	}}
	if cfg.Bounces.ReturnPath != "" {
		if s.VERP, err = bounces.NewVERP(cfg.Bounces.ReturnPath, signer); err != nil {
			return nil, err
		}
	}
	if su.Concurrency > 0 {
		s.Concurrency = su.Concurrency
	}
	if su.Rate != nil {
		s.Rate = *su.Rate
	}
	if su.Retries != nil {
		s.Retries = *su.Retries
	}
	if su.Sending && !su.Serving && strings.TrimSpace(cfg.Site.Address) == "" {
		log.Warn("site.address is empty: mail to readers should carry the organisation's postal address (CAN-SPAM); set [site] address in the config")
	}
	if su.Sending {
		raw := t.URL
		if su.Transport != "" {
			raw = su.Transport
		}
		if s.Transport, err = transport(raw, &t, log); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// transport parses the transport URL with the TLS and timeout settings.
func transport(raw string, tc *config.Transport, log *slog.Logger) (mailer.Transport, error) {
	opts := []mailer.SMTPOption{mailer.WithTimeouts(tc.ConnectTimeout.Duration, tc.CommandTimeout.Duration, tc.DataTimeout.Duration)}
	if tc.CAFile != "" {
		conf, err := mailer.LoadCA(tc.CAFile)
		if err != nil {
			return nil, err
		}
		opts = append(opts, mailer.WithTLSConfig(conf))
	}
	t, err := mailer.ParseTransport(raw, os.Getenv("NEWSLETTER_SMTP_PASSWORD"), opts...)
	if st, ok := t.(*mailer.SMTPTransport); ok && st.TLS == mailer.TLSInsecure {
		log.Warn("tls=insecure: the relay's certificate is not verified; anyone on the path can read and change the mail (transport.ca_file trusts a private CA instead)")
	}
	return t, err
}

// linkSigner signs subscriber links with unsubscribe.secret, or with a
// secret kept in the database when the config has none.
func linkSigner(ctx context.Context, cfg *config.Config, db *sqlite.DB) (*subscribers.Signer, error) {
	secret := cfg.Unsubscribe.Secret
	if secret == "" {
		var err error
		if secret, err = db.Secret(ctx); err != nil {
			return nil, err
		}
	}
	return subscribers.NewSigner(secret)
}
