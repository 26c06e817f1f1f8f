package newsletter

import (
	"context"
	"time"
)

// Subscriber statuses. Only active subscribers receive campaigns.
const (
	StatusActive       = "active"
	StatusUnconfirmed  = "unconfirmed"
	StatusUnsubscribed = "unsubscribed"
	StatusBounced      = "bounced"
	StatusComplained   = "complained"
)

// Statuses lists every subscriber status, in the order they are documented.
var Statuses = []string{StatusActive, StatusUnconfirmed, StatusUnsubscribed, StatusBounced, StatusComplained}

// ValidStatus reports whether s is a subscriber status.
func ValidStatus(s string) bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Blocked reports whether status is one that only the reader may lift: an
// import never makes such an address active again.
func Blocked(status string) bool {
	return status == StatusUnsubscribed || status == StatusBounced || status == StatusComplained
}

// NextStatus is the status rule: an unsubscribed, bounced or complained
// address is never made active (or unconfirmed) again except on the
// reader's own request (resubscribe); any other move is allowed. It returns
// the status an address in current takes when wanted is asked for ("" keeps
// it; current "" is a new address).
func NextStatus(current, wanted string, resubscribe bool) string {
	if current == "" {
		return wanted
	}
	if wanted == "" || wanted == current {
		return current
	}
	if Blocked(current) && !Blocked(wanted) && !resubscribe {
		return current
	}
	return wanted
}

// DefaultList is the list subscribers join when none is named.
const DefaultList = "newsletter"

// Subscriber is one reader.
type Subscriber struct {
	ID              int64
	Email           string // normalised: trimmed, lower case
	Name            string
	Status          string
	StatusChangedAt time.Time
	Categories      []string // display names; empty means every category
	Lists           []string
	CreatedAt       time.Time
}

// SubscriberFilter selects subscribers in a listing. Zero fields do not filter.
type SubscriberFilter struct {
	ID       int64
	List     string
	Category string // subscribers who chose it, or who take every category
	Status   string
	Email    string
}

// List is a named group of subscribers a campaign goes to.
type List struct {
	Name    string
	Members int // members of any status
	Active  int // active members
}

// ImportCounts sums up an import.
type ImportCounts struct {
	Added, Updated, Unchanged, Rejected int
}

// SubscriberInput is a subscriber as an import row or the add command gives
// it. Fields the source does not have leave stored values alone.
type SubscriberInput struct {
	Email         string // normalised
	Name          string
	HasName       bool // an empty Name clears the stored one only when set
	Categories    []string
	HasCategories bool // Categories replaces the stored set only when set
	Lists         []string
	Status        string // "" keeps the stored status, or active for a new one
}

// ImportOptions steer an import.
type ImportOptions struct {
	Lists []string // lists every row joins besides its own; DefaultList when neither names one
	// Strict stores nothing when any row is invalid.
	Strict bool
	// Resubscribe lets this input make an unsubscribed, bounced or
	// complained address active again: only at that person's request.
	Resubscribe bool
	// OnReject is called with each invalid row's error.
	OnReject func(error)
}

// SubscriberStore is what the subscriber-facing web pages need of the
// store.
type SubscriberStore interface {
	SubscriberByID(ctx context.Context, id int64) (*Subscriber, error)
	SetSubscriberStatus(ctx context.Context, email, status string) (changed bool, err error)
	SetSubscriberCategories(ctx context.Context, id int64, categories []string) error
	Categories(ctx context.Context) ([]Category, error)
	RequestSubscription(ctx context.Context, in *SubscriberInput, list string, cooldown time.Duration) (*Subscriber, string, error)
	CancelConfirmation(ctx context.Context, id int64, nonce string) error
	ConfirmSubscription(ctx context.Context, c Confirmation, maxAge time.Duration) (bool, error)
}

// Confirmation is what a confirmation link proves: the reader asked to
// join List, by the mail that carried Nonce.
type Confirmation struct {
	Subscriber int64
	List       string
	Nonce      string
}
