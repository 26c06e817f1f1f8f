package campaign

import (
	"net/http"
	"os"

	"github.com/example/newsletter/web"
)

// Handler is what `newsletter serve` serves, as the configuration asks: the
// subscriber pages, the sign-up form joining list with its [signup] limits
// when signup is on (the service sends the confirmations), the web archive
// unless site.archive turns it off, and the provider webhooks under
// /webhooks/ when [bounces] configures any (sns_topics, or
// mailgun_signing_key, which env NEWSLETTER_MAILGUN_SIGNING_KEY overrides).
// It needs a Service that New built.
func (s *Service) Handler(list string, signup bool) http.Handler {
	cfg := s.cfg
	site := web.Site{Name: cfg.Site.Name, URL: cfg.Site.URL, PublicURL: cfg.Site.PublicURL}
	var opts []web.Option
	if signup {
		opts = append(opts, web.WithSignup(list, s.SendConfirmation), web.WithSignupLimits(web.SignupLimits{
			ClientPerHour: cfg.Signup.ClientPerHour,
			TotalPerHour:  cfg.Signup.TotalPerHour,
			ClientHeader:  cfg.Signup.ClientHeader,
		}))
	}
	if cfg.Site.ArchiveOn() {
		opts = append(opts, web.WithArchive(s))
	}
	h := web.New(s.DB, s.Signer, site, s.Logger, opts...)
	key := cfg.Bounces.MailgunSigningKey
	if env := os.Getenv("NEWSLETTER_MAILGUN_SIGNING_KEY"); env != "" {
		key = env
	}
	if len(cfg.Bounces.SNSTopics) == 0 && key == "" {
		return h
	}
	mux := http.NewServeMux()
	mux.Handle("/webhooks/", &web.Webhooks{Processor: s.Bounces(), SNSTopics: cfg.Bounces.SNSTopics, MailgunKey: key, Log: s.Logger})
	mux.Handle("/", h)
	s.Logger.Info("webhooks", "ses", len(cfg.Bounces.SNSTopics) > 0, "mailgun", key != "")
	return mux
}
