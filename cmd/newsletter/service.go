package main

import (
	"context"
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

// mailFlags are the flags of the commands that render or send mail.
type mailFlags struct {
	templatesDir string
	transport    string
	concurrency  int
	rate         float64
	retries      int
	cmd          *cobra.Command // to tell a flag given from its default
}

// changed reports whether the flag was given on the command line.
func (f *mailFlags) changed(name string) bool {
	return f.cmd != nil && f.cmd.Flags().Changed(name)
}

func (f *mailFlags) add(cmd *cobra.Command, sending bool) {
	f.cmd = cmd
	cmd.Flags().StringVar(&f.templatesDir, "templates", "", "a `directory` whose files override the built-in templates")
	if !sending {
		return
	}
	cmd.Flags().StringVar(&f.transport, "transport", "", "where mail goes: smtp://HOST:PORT, smtps://..., file://DIR (env NEWSLETTER_TRANSPORT)")
	cmd.Flags().IntVar(&f.concurrency, "concurrency", 0, "SMTP connections at once (default: transport.concurrency, else 4)")
	cmd.Flags().Float64Var(&f.rate, "rate", 0, "messages per second over all connections, 0 unlimited (default: transport.rate)")
	cmd.Flags().IntVar(&f.retries, "retries", 0, "attempts after a temporary failure (default: transport.retries, else 5)")
}

// service builds the campaign service from the config and flags. With
// sending, the transport is parsed too, so a wrong one is reported before
// anything else happens.
func (a *app) service(cmd *cobra.Command, f *mailFlags, sending bool) (*campaign.Service, error) {
	cfg, err := a.config(cmd)
	if err != nil {
		return nil, err
	}
	db, err := a.store(cmd.Context())
	if err != nil {
		return nil, err
	}
	dir := cfg.Templates.Dir
	if f.templatesDir != "" {
		dir = f.templatesDir
	}
	r, err := templates.New(templates.Site{Name: cfg.Site.Name, URL: cfg.Site.URL, Address: cfg.Site.Address}, templates.WithDir(dir))
	if err != nil {
		return nil, err
	}
	b, err := mailer.NewBuilder(cfg.Site.From, cfg.Site.Name,
		mailer.WithReplyTo(cfg.Site.ReplyTo),
		mailer.WithDKIM(cfg.DKIM.Domain, cfg.DKIM.Selector, cfg.DKIM.PrivateKeyFile),
		mailer.WithClock(a.now))
	if err != nil {
		return nil, err
	}
	signer, err := linkSigner(cmd.Context(), cfg, db)
	if err != nil {
		return nil, err
	}
	if u, err := url.Parse(cfg.Site.PublicURL); err != nil || u.Host == "" {
		return nil, newsletter.Errorf(newsletter.EINVALID, "site.public_url %q must be an absolute URL, like https://news.example.org", cfg.Site.PublicURL)
	} else if u.Scheme != "https" && u.Hostname() != "localhost" && u.Hostname() != "127.0.0.1" {
		a.log.Warn("site.public_url is not HTTPS: mailbox providers ignore one-click unsubscribe (RFC 8058) without it", "public_url", cfg.Site.PublicURL)
	}
	verp, err := bounceVERP(cfg, signer)
	if err != nil {
		return nil, err
	}
	s := &campaign.Service{DB: db, Renderer: r, Builder: b, Signer: signer, Options: campaign.Options{
		PublicURL:         cfg.Site.PublicURL,
		UnsubscribeMailto: cfg.Unsubscribe.Mailto,
		Concurrency:       firstPositive(f.concurrency, cfg.Transport.Concurrency, 4),
		Rate:              cfg.Transport.Rate,
		Retries:           cfg.Transport.Retries,
		RetryBackoff:      cfg.Transport.RetryBackoff.Duration,
		Grace:             cfg.Transport.StopGrace.Duration,
		QueueLifetime:     cfg.Transport.QueueLifetime.Duration,
		Now:               a.now,
		Logger:            a.log,
		Progress:          &cliProgress{a: a},
		VERP:              verp,
	}}
	if f.changed("rate") {
		s.Rate = f.rate
	}
	if f.changed("retries") {
		s.Retries = f.retries
	}
	if sending {
		raw := cfg.Transport.URL
		if f.transport != "" {
			raw = f.transport
		}
		if s.Transport, err = a.transport(raw, &cfg.Transport); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// transport parses the transport URL with the TLS and timeout settings.
func (a *app) transport(raw string, tc *TransportConfig) (mailer.Transport, error) {
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
		a.log.Warn("tls=insecure: the relay's certificate is not verified; anyone on the path can read and change the mail (transport.ca_file trusts a private CA instead)")
	}
	return t, err
}

// linkSigner signs subscriber links with unsubscribe.secret, or with a
// secret kept in the database when the config has none.
func linkSigner(ctx context.Context, cfg *Config, db *sqlite.DB) (*subscribers.Signer, error) {
	secret := cfg.Unsubscribe.Secret
	if secret == "" {
		var err error
		if secret, err = db.Secret(ctx); err != nil {
			return nil, err
		}
	}
	return subscribers.NewSigner(secret)
}

func firstPositive(vs ...int) int {
	for _, v := range vs {
		if v > 0 {
			return v
		}
	}
	return 0
}

// cliProgress prints what a campaign run does as it happens.
type cliProgress struct {
	a    *app
	prog *progress
}

func (p *cliProgress) Resuming(c *newsletter.Campaign, unknown int) {
	p.a.infof("resuming campaign %d of list %s", c.ID, c.List)
	if unknown > 0 {
		p.a.infof("%d deliveries of campaign %d are unknown: a run stopped while sending them, so they may or may not have arrived; they are not resent (see: newsletter deliveries --campaign %d --status unknown; --resend-unknown resends them)", unknown, c.ID, c.ID)
	}
}

func (p *cliProgress) Sending(c *newsletter.Campaign, pending int) func(string) {
	p.prog = p.a.newProgress(pending, fmt.Sprintf("campaign %d", c.ID))
	return p.prog.add
}

func (p *cliProgress) Finished(r *campaign.Run) {
	if p.prog != nil {
		p.prog.done()
	}
	c, st := r.Campaign, r.Stats
	rate := 0.0
	if secs := st.Elapsed.Seconds(); secs > 0 {
		rate = float64(st.Sent) / secs
	}
	// Rows still sending after a run are unknown: the next run says so.
	p.a.infof("campaign %d (%s, list %s): %d recipients, %d sent, %d failed, %d unknown, %d pending, %d deferred; %.1fs, %.0f msg/s",
		c.ID, c.Kind, c.List, c.Recipients, c.Sent, c.Failed, c.Unknown+c.Sending, c.Pending, c.Deferred, st.Elapsed.Seconds(), rate)
	if c.Deferred > 0 {
		p.a.infof("%d deferred; run again later (see: newsletter deliveries --campaign %d --status deferred)", c.Deferred, c.ID)
	}
}

// exitOf turns what a send did into the exit code of the contract and the
// lines that tell the user what to do next.
func (a *app) exitOf(res *campaign.Result) error {
	if res.Expired > 0 {
		a.infof("%d deferred deliveries ran past transport.queue_lifetime and failed", res.Expired)
	}
	outcome, run := res.Worst()
	if run == nil {
		return nil
	}
	id := run.Campaign.ID
	switch outcome {
	case campaign.Aborted, campaign.Unfinished:
		return exitWith(exitFailure, run.Problem())
	case campaign.Interrupted:
		a.infof("interrupted; campaign %d is resumable: run the same command again", id)
		return exitWith(exitInterrupted, nil)
	case campaign.SomeFailed:
		a.infof("%d deliveries failed; see: newsletter deliveries --campaign %d --status failed", run.Campaign.Failed, id)
		return exitWith(exitSomeFailed, nil)
	}
	return nil
}

// exitWith turns a code into the error run maps to it.
func exitWith(code int, err error) error {
	if code == exitOK && err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}
