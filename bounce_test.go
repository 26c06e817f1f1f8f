package newsletter_test

import (
	"testing"

	"github.com/example/newsletter"
)

func TestDecideBounce(t *testing.T) {
	ev := func(kind string) *newsletter.BounceEvent { return &newsletter.BounceEvent{Kind: kind} }
	active := newsletter.BounceState{DeliveryStatus: newsletter.DeliverySent, SubscriberID: 1, SubscriberStatus: newsletter.StatusActive, SoftCampaigns: 1}
	with := func(f func(*newsletter.BounceState)) newsletter.BounceState { s := active; f(&s); return s }
	for _, c := range []struct {
		name  string
		ev    *newsletter.BounceEvent
		st    newsletter.BounceState
		limit int
		want  newsletter.BounceEffect
	}{
		{"HardBouncesAtOnce", ev(newsletter.BounceHard), active, 0, newsletter.BounceEffect{DeliveryStatus: "bounced", SubscriberStatus: "bounced"}},
		{"SoftCountsFirst", ev(newsletter.BounceSoft), active, 0, newsletter.BounceEffect{DeliveryStatus: "bounced"}},
		{"SoftAtTheLimit", ev(newsletter.BounceSoft), with(func(s *newsletter.BounceState) { s.SoftCampaigns = 3 }), 0, newsletter.BounceEffect{DeliveryStatus: "bounced", SubscriberStatus: "bounced"}},
		{"SoftLimitConfigured", ev(newsletter.BounceSoft), with(func(s *newsletter.BounceState) { s.SoftCampaigns = 2 }), 2, newsletter.BounceEffect{DeliveryStatus: "bounced", SubscriberStatus: "bounced"}},
		{"PolicyLeavesTheAddress", ev(newsletter.BouncePolicy), active, 0, newsletter.BounceEffect{DeliveryStatus: "bounced"}},
		{"ComplaintAtOnce", ev(newsletter.BounceComplaint), active, 0, newsletter.BounceEffect{DeliveryStatus: "complained", SubscriberStatus: "complained"}},
		{"ComplaintAfterBounce", ev(newsletter.BounceComplaint), with(func(s *newsletter.BounceState) { s.SubscriberStatus = "bounced"; s.DeliveryStatus = "bounced" }), 0,
			newsletter.BounceEffect{DeliveryStatus: "complained", SubscriberStatus: "complained"}},
		{"GoneUnsubscribed", ev(newsletter.BounceHard), with(func(s *newsletter.BounceState) { s.SubscriberStatus = "unsubscribed" }), 0, newsletter.BounceEffect{}},
		{"GoneRemoved", ev(newsletter.BounceHard), with(func(s *newsletter.BounceState) { s.SubscriberID = 0; s.SubscriberStatus = "" }), 0, newsletter.BounceEffect{}},
		{"NeverUncomplain", ev(newsletter.BounceHard), with(func(s *newsletter.BounceState) { s.DeliveryStatus = "complained" }), 0, newsletter.BounceEffect{SubscriberStatus: "bounced"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := newsletter.DecideBounce(c.ev, c.st, c.limit); got != c.want {
				t.Errorf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestCampaignBouncesRisky(t *testing.T) {
	for _, c := range []struct {
		b    newsletter.CampaignBounces
		want bool
	}{
		{newsletter.CampaignBounces{Accepted: 1000, Complained: 1}, false},
		{newsletter.CampaignBounces{Accepted: 1000, Complained: 2}, true},
		{newsletter.CampaignBounces{Accepted: 100, Bounced: 2}, false},
		{newsletter.CampaignBounces{Accepted: 100, Bounced: 3}, true},
		{newsletter.CampaignBounces{}, false},
	} {
		if got := c.b.Risky(); got != c.want {
			t.Errorf("%+v: Risky %v", c.b, got)
		}
	}
}
