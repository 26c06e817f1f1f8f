package campaign

import (
	"context"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
)

// LastRates returns the bounce and complaint counts of the list's newest
// campaign, and false when the list has none. The CLI warns before a send
// when they are newsletter.CampaignBounces.Risky.
func (s *Service) LastRates(ctx context.Context, list string) (newsletter.CampaignBounces, bool, error) {
	return s.DB.LastCampaignBounces(ctx, list)
}

// Bounces returns the processor that every bounce source goes through,
// with the service's store, VERP scheme and clock; softLimit is
// bounces.soft_limit (0 for the default).
func (s *Service) Bounces(softLimit int) *bounces.Processor {
	return &bounces.Processor{Store: s.DB, VERP: s.VERP, SoftLimit: softLimit, Now: s.Now, Logger: s.Logger}
}
