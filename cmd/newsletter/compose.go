package main

import (
	"context"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
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

// mailer is what rendering and sending need, made once per command.
type mailSetup struct {
	cfg      *Config
	db       *sqlite.DB
	renderer *templates.Renderer
	builder  *mailer.Builder
	signer   *subscribers.Signer
}

func (a *app) mailSetup(cmd *cobra.Command, f *mailFlags) (*mailSetup, error) {
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
	return &mailSetup{cfg: cfg, db: db, renderer: r, builder: b, signer: signer}, nil
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

// transport opens the configured transport; flags override env and config.
func (ms *mailSetup) transport(f *mailFlags) (mailer.Transport, error) {
	raw := ms.cfg.Transport.URL
	if f.transport != "" {
		raw = f.transport
	}
	return mailer.ParseTransport(raw, os.Getenv("NEWSLETTER_SMTP_PASSWORD"))
}

// links returns a reader's signed unsubscribe and preferences URLs.
func (ms *mailSetup) links(subscriberID int64, list string) templates.Links {
	base := strings.TrimRight(ms.cfg.Site.PublicURL, "/")
	tok := func(purpose string) string {
		return url.PathEscape(ms.signer.Sign(subscribers.Token{Purpose: purpose, Subscriber: subscriberID, List: list}))
	}
	return templates.Links{
		Unsubscribe: base + "/unsubscribe/" + tok(subscribers.PurposeUnsubscribe),
		Preferences: base + "/preferences/" + tok(subscribers.PurposePreferences),
	}
}

// matchArticles returns the articles a reader of categories receives: all
// of them for a reader with no categories, else those sharing a category.
func matchArticles(arts []*newsletter.Article, categories []string) []*newsletter.Article {
	if len(categories) == 0 {
		return arts
	}
	want := map[string]bool{}
	for _, c := range categories {
		want[newsletter.CategoryKey(c)] = true
	}
	var out []*newsletter.Article
	for _, a := range arts {
		for _, c := range a.Categories {
			if want[newsletter.CategoryKey(c)] {
				out = append(out, a)
				break
			}
		}
	}
	return out
}

// recipientMessage renders and builds the message of one reader.
type messageSpec struct {
	kind, list, campaign string
	articles             []*newsletter.Article // the campaign's; matched per reader
	subjectPrefix        string
}

func (ms *mailSetup) build(spec messageSpec, r *newsletter.Recipient) (*mailer.Built, error) {
	arts := matchArticles(spec.articles, r.Categories)
	if len(arts) == 0 {
		return nil, newsletter.Errorf(newsletter.EINVALID, "no article of this campaign is in %s's categories", r.Email)
	}
	content, err := ms.renderer.Content(spec.kind, arts)
	if err != nil {
		return nil, err
	}
	links := ms.links(r.SubscriberID, spec.list)
	msg, err := ms.renderer.Render(content, templates.Reader{Name: r.Name, Email: r.Email, Categories: r.Categories}, links)
	if err != nil {
		return nil, err
	}
	return ms.builder.Build(&mailer.Message{
		Campaign:          spec.campaign,
		ToName:            r.Name,
		ToEmail:           r.Email,
		Subject:           spec.subjectPrefix + msg.Subject,
		Text:              msg.Text,
		HTML:              msg.HTML,
		List:              spec.list,
		UnsubscribeURL:    links.Unsubscribe,
		UnsubscribeMailto: ms.cfg.Unsubscribe.Mailto,
	})
}

// composer adapts build to the sender.
func (ms *mailSetup) composer(spec messageSpec) mailer.Composer {
	return func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) {
		return ms.build(spec, r)
	}
}
