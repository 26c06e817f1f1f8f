package campaign

import (
	"context"
	"os"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/mailer"
)

// LastRates returns the bounce and complaint counts of the list's newest
// campaign, and false when the list has none. The CLI warns before a send
// when they are newsletter.CampaignBounces.Risky.
func (s *Service) LastRates(ctx context.Context, list string) (newsletter.CampaignBounces, bool, error) {
	return s.DB.LastCampaignBounces(ctx, list)
}

// Bounces returns the processor that every bounce source goes through,
// with the service's store, VERP scheme, clock and bounces.soft_limit.
func (s *Service) Bounces() *bounces.Processor {
	return &bounces.Processor{Store: s.DB, VERP: s.VERP, SoftLimit: s.cfg.Bounces.SoftLimit, Now: s.Now, Logger: s.Logger}
}

// FetchBounces reads the bounces.imap mailbox (the password from env
// NEWSLETTER_IMAP_PASSWORD) through the processor.
func (s *Service) FetchBounces(ctx context.Context, p *bounces.Processor) (bounces.Outcome, error) {
	b := s.cfg.Bounces
	if b.IMAP == "" {
		return bounces.Outcome{}, newsletter.Errorf(newsletter.EINVALID, "bounces.imap is not set in %s; set it to the bounce mailbox, like imaps://bounces@mail.example.org/INBOX", s.cfg.Path())
	}
	opts := bounces.FetchOptions{URL: b.IMAP, Password: os.Getenv("NEWSLETTER_IMAP_PASSWORD")}
	if b.CAFile != "" {
		conf, err := mailer.LoadCA(b.CAFile)
		if err != nil {
			return bounces.Outcome{}, err
		}
		opts.TLSConfig = conf
	}
	return p.Fetch(ctx, opts)
}
