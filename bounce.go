package newsletter

import (
	"context"
	"time"
)

// Delivery statuses that a report arriving after the relay accepted the
// message sets: the message bounced, or its reader reported it as spam.
const (
	DeliveryBounced    = "bounced"
	DeliveryComplained = "complained"
)

// Kinds of bounce events.
const (
	// BounceHard is a permanent failure about the recipient (5.1.1 no such
	// user, 5.1.10, 5.2.1 disabled …): the address is bad.
	BounceHard = "hard"
	// BounceSoft is a failure that may not last (a 4.x.x status after the
	// relay gave up, a full mailbox): it counts toward SoftBounceLimit.
	BounceSoft = "soft"
	// BouncePolicy is a permanent failure about the sender, the content or
	// policy (5.7.x, 5.1.8 …): the message bounced, the address is fine.
	BouncePolicy = "policy"
	// BounceComplaint is a spam complaint (an ARF report, a provider's
	// complaint notification).
	BounceComplaint = "complaint"
)

// SoftBounceLimit is the default soft-bounce rule: soft bounces on this
// many different campaigns mark an address bounced.
const SoftBounceLimit = 3

// Rates above which the next send is risky: mailbox providers judge a
// sender by them (Gmail and Yahoo ask for complaints under 0.3 %, and
// recommend 0.1 %).
const (
	MaxComplaintRate = 0.001
	MaxBounceRate    = 0.02
)

// BounceEvent is one report about one delivery: a bounce or a complaint,
// from any source.
type BounceEvent struct {
	DeliveryID int64
	Kind       string // BounceHard, BounceSoft, BouncePolicy or BounceComplaint
	// Source says where the report came from: "file", "maildir", "mbox",
	// "stdin", "imap", "ses", "mailgun".
	Source     string
	Status     string // enhanced status code, such as "5.1.1"; "" if none
	Diagnostic string // the remote server's words
	Recipient  string // the address the report names
	// ReportID identifies the report: the same report read twice, from the
	// same or another source, has the same id and is recorded once.
	ReportID string
	At       time.Time
}

// BounceState is what the store holds about an event's delivery when the
// event arrives.
type BounceState struct {
	CampaignID       int64
	DeliveryStatus   string
	SubscriberID     int64  // 0 once the subscriber was removed
	SubscriberStatus string // "" once removed
	// SoftCampaigns counts the different campaigns with a soft bounce of
	// this subscriber, this event included.
	SoftCampaigns int
}

// BounceEffect is what an event changes; an empty field changes nothing.
type BounceEffect struct {
	DeliveryStatus   string
	SubscriberStatus string
}

// DecideBounce is the bounce rule. A complaint marks the delivery and the
// address complained at once. A hard bounce marks the delivery and the
// address bounced at once; a soft one marks the delivery bounced and the
// address once soft bounces reach softLimit different campaigns; a policy
// bounce marks only the delivery. A report about an address that is gone
// (removed, unsubscribed, bounced or complained) is recorded and changes
// nothing; a delivery is never moved back from complained.
func DecideBounce(ev *BounceEvent, st BounceState, softLimit int) BounceEffect {
	if softLimit <= 0 {
		softLimit = SoftBounceLimit
	}
	var eff BounceEffect
	if ev.Kind == BounceComplaint {
		if st.DeliveryStatus != DeliveryComplained {
			eff.DeliveryStatus = DeliveryComplained
		}
		if st.SubscriberID != 0 && st.SubscriberStatus != StatusComplained {
			eff.SubscriberStatus = StatusComplained
		}
		return eff
	}
	gone := st.SubscriberID == 0 || Blocked(st.SubscriberStatus)
	if gone {
		return eff
	}
	switch st.DeliveryStatus {
	case DeliverySent, DeliveryUnknown, DeliveryDeferred:
		eff.DeliveryStatus = DeliveryBounced
	}
	switch {
	case ev.Kind == BounceHard, ev.Kind == BounceSoft && st.SoftCampaigns >= softLimit:
		eff.SubscriberStatus = StatusBounced
	}
	return eff
}

// BounceRecord is a recorded event with the delivery it is about and what
// it changed.
type BounceRecord struct {
	BounceEvent
	CampaignID int64
	Email      string // the delivery's address
	Effect     BounceEffect
}

// BounceFilter selects recorded events. Zero fields do not filter.
type BounceFilter struct {
	CampaignID int64
}

// CampaignBounces sums up the reports about one campaign.
type CampaignBounces struct {
	CampaignID int64
	// Accepted counts the messages a server took: sent, bounced and
	// complained deliveries.
	Accepted   int
	Bounced    int
	Complained int
}

// BounceRate is the share of accepted messages that bounced.
func (c CampaignBounces) BounceRate() float64 { return rate(c.Bounced, c.Accepted) }

// ComplaintRate is the share of accepted messages reported as spam.
func (c CampaignBounces) ComplaintRate() float64 { return rate(c.Complained, c.Accepted) }

// Risky reports whether a rate is above MaxBounceRate or MaxComplaintRate.
func (c CampaignBounces) Risky() bool {
	return c.BounceRate() > MaxBounceRate || c.ComplaintRate() > MaxComplaintRate
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// BounceStore is what bounce processing needs of the store.
type BounceStore interface {
	// DeliveryByMessageID returns the delivery whose message had this
	// Message-ID (angle brackets optional), or an ENOTFOUND error.
	DeliveryByMessageID(ctx context.Context, messageID string) (*Delivery, error)
	// DeliveryByID returns a delivery, or an ENOTFOUND error.
	DeliveryByID(ctx context.Context, id int64) (*Delivery, error)
	// RecordBounce records ev once per (delivery, kind) and, in the
	// same transaction, applies what decide returns for the state it is
	// given. It returns the effect applied and whether the event was new;
	// an event seen before changes nothing. An unknown delivery is an
	// ENOTFOUND error.
	RecordBounce(ctx context.Context, ev *BounceEvent, decide func(BounceState) BounceEffect) (BounceEffect, bool, error)
}
