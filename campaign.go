package newsletter

import "time"

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
	Failed     int
	Unknown    int
	CreatedAt  time.Time
	FinishedAt time.Time
}

// Delivery statuses. A delivery moves pending → sending → sent or failed;
// a delivery a crashed run left in sending becomes unknown.
const (
	DeliveryPending = "pending"
	DeliverySending = "sending"
	DeliverySent    = "sent"
	DeliveryFailed  = "failed"
	DeliveryUnknown = "unknown"
)

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
