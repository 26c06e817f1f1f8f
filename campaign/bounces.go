package campaign

import (
	"context"

	"github.com/example/newsletter"
)

// LastRates returns the bounce and complaint counts of the list's newest
// campaign, and false when the list has none. The CLI warns before a send
// when they are newsletter.CampaignBounces.Risky.
func (s *Service) LastRates(ctx context.Context, list string) (newsletter.CampaignBounces, bool, error) {
	return s.DB.LastCampaignBounces(ctx, list)
}
