package sqlite

import (
	"context"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// PendingRecipients returns up to limit pending deliveries of a campaign
// with ids above afterID, in id order, with each subscriber's name, status
// and categories.
func (db *DB) PendingRecipients(ctx context.Context, campaignID, afterID int64, limit int) ([]*newsletter.Recipient, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT d.id, coalesce(d.subscriber_id, 0), d.email, coalesce(s.name, ''), coalesce(s.status, ''), d.attempts,
		coalesce((SELECT group_concat(name, char(31)) FROM (SELECT c.name FROM subscriber_categories sc
			JOIN categories c ON c.id = sc.category_id WHERE sc.subscriber_id = s.id ORDER BY sc.position)), '')
		FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.campaign_id = ? AND d.status = 'pending' AND d.id > ? ORDER BY d.id LIMIT ?`, campaignID, afterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*newsletter.Recipient
	for rows.Next() {
		var r newsletter.Recipient
		var cats string
		if err := rows.Scan(&r.DeliveryID, &r.SubscriberID, &r.Email, &r.Name, &r.Status, &r.Attempts, &cats); err != nil {
			return nil, err
		}
		if cats != "" {
			r.Categories = strings.Split(cats, "\x1f")
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// WriteDeliveries applies updates to the delivery log in one transaction.
// A mark to sending is a claim: it applies only to a pending delivery, and
// the ids of deliveries that were no longer pending are returned as lost.
// An Unclaimed update applies only to a pending delivery too; other updates
// never change a delivery that is already sent. Permanent failures count
// against their subscribers: a 5.1.x failure or the third permanent failure
// in a row marks the address bounced; a sent message resets the count.
//
// The file must still be the one opened (else ErrReplaced), and a database
// another process keeps locked is waited for, for up to 5 minutes, rather
// than the send stopping.
func (db *DB) WriteDeliveries(ctx context.Context, updates []newsletter.DeliveryUpdate) ([]int64, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	if err := db.CheckFile(); err != nil {
		return nil, err
	}
	// The log must be written even when the run is being cancelled: a
	// message that went out must be recorded as sent.
	ctx = context.WithoutCancel(ctx)
	var lost []int64
	err := retryBusy(ctx, 5*time.Minute, func() error {
		var err error
		lost, err = db.writeDeliveries(ctx, updates)
		return err
	})
	return lost, err
}

// EachDelivery calls fn for each delivery matching filter, oldest first.
func (db *DB) EachDelivery(ctx context.Context, filter newsletter.DeliveryFilter, fn func(*newsletter.Delivery) error) error {
	where, args := []string{"1 = 1"}, []any{}
	if filter.CampaignID != 0 {
		where = append(where, "campaign_id = ?")
		args = append(args, filter.CampaignID)
	}
	if filter.Status != "" {
		where = append(where, "status = ?")
		args = append(args, filter.Status)
	}
	if filter.Email != "" {
		where = append(where, "email = ?")
		args = append(args, filter.Email)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT id, campaign_id, coalesce(subscriber_id, 0), email, status, attempts, code, error, message_id, updated_at
		FROM deliveries WHERE `+strings.Join(where, " AND ")+` ORDER BY campaign_id, id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var d newsletter.Delivery
		var updated string
		if err := rows.Scan(&d.ID, &d.CampaignID, &d.SubscriberID, &d.Email, &d.Status, &d.Attempts, &d.Code, &d.Error, &d.MessageID, &updated); err != nil {
			return err
		}
		d.UpdatedAt = parseTime(updated)
		if err := fn(&d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Deliveries returns the deliveries matching filter.
func (db *DB) Deliveries(ctx context.Context, filter newsletter.DeliveryFilter) ([]*newsletter.Delivery, error) {
	var out []*newsletter.Delivery
	err := db.EachDelivery(ctx, filter, func(d *newsletter.Delivery) error {
		out = append(out, d)
		return nil
	})
	return out, err
}
