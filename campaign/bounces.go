package campaign

import (
	"context"
	"fmt"
	"os"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/mailer"
)

// RateWarning says, before a send, when the list's newest campaign had a
// complaint rate above newsletter.MaxComplaintRate or a bounce rate above
// newsletter.MaxBounceRate: mailbox providers judge a sender by them. It
// is "" otherwise.
func (s *Service) RateWarning(ctx context.Context, list string) string {
	b, ok, err := s.DB.LastCampaignBounces(ctx, list)
	if err != nil || !ok || !b.Risky() {
		return ""
	}
	pc := func(r float64) string { return fmt.Sprintf("%.2f%%", 100*r) }
	return fmt.Sprintf("campaign %d of list %s had a complaint rate of %s (keep it under %s) and a bounce rate of %s (keep it under %s); "+
		"mailbox providers may send this list to spam: see newsletter bounces list --campaign %d",
		b.CampaignID, list, pc(b.ComplaintRate()), pc(newsletter.MaxComplaintRate), pc(b.BounceRate()), pc(newsletter.MaxBounceRate), b.CampaignID)
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
