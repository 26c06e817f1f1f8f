package newsletter

import (
	"context"
	"slices"
	"time"
)

// Campaign kinds.
const (
	KindDigest  = "digest"  // the articles new since the last digest of a list
	KindArticle = "article" // one article
)

// Campaign statuses.
const (
	CampaignSending = "sending" // deliveries are queued or under way; resumable
	CampaignDone    = "done"    // every delivery has reached a final status
)

// Campaign is one send of one message kind to one list.
type Campaign struct {
	ID         int64
	Kind       string
	List       string
	Status     string
	Subject    string
	Articles   int
	Recipients int
	Pending    int
	Sending    int
	Sent       int
	Deferred   int
	Failed     int
	Unknown    int
	CreatedAt  time.Time
	FinishedAt time.Time
}

// Delivery statuses. A delivery moves pending → sending → sent, deferred,
// failed or unknown. Sending is claimed before the message leaves; unknown
// is a message that may or may not have arrived (the reply after its end
// was lost, or a run died while sending it) and is never resent by itself.
// Deferred is a temporary failure that outlasted a run's retries: later
// runs retry it until the queue lifetime, then it fails.
const (
	DeliveryPending  = "pending"
	DeliverySending  = "sending"
	DeliverySent     = "sent"
	DeliveryDeferred = "deferred"
	DeliveryFailed   = "failed"
	DeliveryUnknown  = "unknown"
)

// DeliveryStatuses lists the delivery statuses, in the order they are
// documented.
var DeliveryStatuses = []string{DeliveryPending, DeliverySending, DeliverySent, DeliveryDeferred, DeliveryFailed, DeliveryUnknown, DeliveryBounced, DeliveryComplained}

// ValidDeliveryStatus reports whether s is a delivery status.
func ValidDeliveryStatus(s string) bool {
	return slices.Contains(DeliveryStatuses, s)
}

// HardFailureLimit is the bounce rule: this many permanent failures about
// the recipient in a row, without a delivery between them, mark an address
// bounced. A reply that says the mailbox does not exist marks it at once.
const HardFailureLimit = 3

// Delivery is one message of a campaign to one address: the log's row.
type Delivery struct {
	ID           int64
	CampaignID   int64
	SubscriberID int64 // 0 once the subscriber was removed
	Email        string
	Status       string
	Attempts     int
	Code         int    // last SMTP reply code, 0 if none
	Error        string // last error text
	MessageID    string
	UpdatedAt    time.Time
}

// DeliveryFilter selects deliveries in a listing. Zero fields do not filter.
type DeliveryFilter struct {
	CampaignID int64
	Status     string
	Email      string
}

// CampaignSpec describes a campaign to create.
type CampaignSpec struct {
	Kind       string
	List       string
	Key        string    // unique: the same key never makes a second campaign
	Since      time.Time // digest: articles published on or after
	Categories []string  // digest: only articles in these categories
	ArticleIDs []int64   // article: the one article
	Subject    string
	// Schedule and Period, when set, record the schedule run in the same
	// transaction that creates the campaign.
	Schedule, Period string
}

// Recipient is a queued delivery with what rendering needs.
type Recipient struct {
	DeliveryID   int64
	SubscriberID int64 // 0 once the subscriber was removed
	Email        string
	Name         string
	Status       string   // the subscriber's status now
	Categories   []string // display names; empty: every category
	Attempts     int
}

// DeliveryUpdate is one write to the delivery log.
type DeliveryUpdate struct {
	DeliveryID   int64
	SubscriberID int64
	Status       string
	Attempts     int
	Code         int
	Error        string
	MessageID    string
	// Permanent counts a permanent failure against the subscriber; Bounce
	// marks the address bounced at once (5.1.x: no such user).
	Permanent, Bounce bool
	// Unclaimed applies the update only to a delivery still pending: a
	// result decided without sending (a skipped reader, a rendering error).
	Unclaimed bool
}

// DeliveryLog is what the sender needs of the store.
type DeliveryLog interface {
	// PendingRecipients returns up to limit pending deliveries of a
	// campaign with ids above afterID, in id order.
	PendingRecipients(ctx context.Context, campaignID, afterID int64, limit int) ([]*Recipient, error)
	// WriteDeliveries applies updates in one transaction. An update to
	// sending claims a pending delivery; the ids of those no longer pending
	// (another sender took them) are returned as lost, and their message
	// must not be sent. No update ever changes a delivery that is sent.
	WriteDeliveries(ctx context.Context, updates []DeliveryUpdate) (lost []int64, err error)
}
