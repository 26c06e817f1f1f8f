package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// DeliveryByMessageID returns the delivery whose message had messageID,
// with or without angle brackets.
func (db *DB) DeliveryByMessageID(ctx context.Context, messageID string) (*newsletter.Delivery, error) {
	id := "<" + strings.Trim(strings.TrimSpace(messageID), "<>") + ">"
	return db.bounceDelivery(ctx, "message_id = ? AND message_id != '' ORDER BY id LIMIT 1", id, "Message-ID "+id)
}

// DeliveryByID returns the delivery with this id.
func (db *DB) DeliveryByID(ctx context.Context, id int64) (*newsletter.Delivery, error) {
	return db.bounceDelivery(ctx, "id = ?", id, fmt.Sprint("id ", id))
}

func (db *DB) bounceDelivery(ctx context.Context, where string, arg any, what string) (*newsletter.Delivery, error) {
	var d newsletter.Delivery
	var updated string
	err := db.db.QueryRowContext(ctx, `SELECT id, campaign_id, coalesce(subscriber_id, 0), email, status, attempts, code, error, message_id, updated_at
		FROM deliveries WHERE `+where, arg).
		Scan(&d.ID, &d.CampaignID, &d.SubscriberID, &d.Email, &d.Status, &d.Attempts, &d.Code, &d.Error, &d.MessageID, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no delivery has %s", what)
	} else if err != nil {
		return nil, err
	}
	d.UpdatedAt = parseTime(updated)
	return &d, nil
}

// RecordBounce records ev once per (delivery, kind) and applies
// the effect decide chooses for the delivery's state, in one transaction.
// The store decides nothing: decide is the rule.
func (db *DB) RecordBounce(ctx context.Context, ev *newsletter.BounceEvent, decide func(newsletter.BounceState) newsletter.BounceEffect) (newsletter.BounceEffect, bool, error) {
	var eff newsletter.BounceEffect
	var isNew bool
	err := retryBusy(ctx, time.Minute, func() error {
		var err error
		eff, isNew, err = db.recordBounce(ctx, ev, decide)
		return err
	})
	return eff, isNew, err
}

func (db *DB) recordBounce(ctx context.Context, ev *newsletter.BounceEvent, decide func(newsletter.BounceState) newsletter.BounceEffect) (newsletter.BounceEffect, bool, error) {
	var none newsletter.BounceEffect
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return none, false, err
	}
	defer tx.Rollback()
	var st newsletter.BounceState
	var email string
	err = tx.QueryRowContext(ctx, `SELECT d.campaign_id, d.status, d.email, coalesce(s.id, 0), coalesce(s.status, '')
		FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id WHERE d.id = ?`, ev.DeliveryID).
		Scan(&st.CampaignID, &st.DeliveryStatus, &email, &st.SubscriberID, &st.SubscriberStatus)
	if errors.Is(err, sql.ErrNoRows) {
		return none, false, newsletter.Errorf(newsletter.ENOTFOUND, "delivery %d does not exist", ev.DeliveryID)
	} else if err != nil {
		return none, false, err
	}
	now := db.nowText()
	at := now
	if !ev.At.IsZero() {
		at = formatTime(ev.At)
	}
	var sub any
	if st.SubscriberID != 0 {
		sub = st.SubscriberID
	}
	recipient, diagnostic := ev.Recipient, ev.Diagnostic
	if isForgotten(email) {
		recipient, diagnostic = email, replaceFold(diagnostic, ev.Recipient, email)
	}
	// One event per delivery and kind: the same bounce read from a mailbox
	// and from a webhook has two report ids but is one event.
	res, err := tx.ExecContext(ctx, `INSERT INTO bounce_events (delivery_id, campaign_id, subscriber_id, email, kind, source, status,
		diagnostic, recipient, report_id, reported_at, created_at) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM bounce_events WHERE delivery_id = ? AND kind = ?)
		ON CONFLICT (delivery_id, kind, report_id) DO NOTHING`,
		ev.DeliveryID, st.CampaignID, sub, email, ev.Kind, ev.Source, ev.Status, diagnostic, recipient, ev.ReportID, at, now,
		ev.DeliveryID, ev.Kind)
	if err != nil {
		return none, false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return none, false, nil // seen before: recorded once, applied once
	}
	eventID, _ := res.LastInsertId()
	if st.SubscriberID != 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT campaign_id) FROM bounce_events WHERE subscriber_id = ? AND kind = 'soft'`,
			st.SubscriberID).Scan(&st.SoftCampaigns); err != nil {
			return none, false, err
		}
	}
	eff := decide(st)
	if eff.DeliveryStatus != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = ?, updated_at = ? WHERE id = ?`, eff.DeliveryStatus, now, ev.DeliveryID); err != nil {
			return none, false, err
		}
	}
	if eff.SubscriberStatus != "" && st.SubscriberID != 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_changed_at = ?, updated_at = ? WHERE id = ?`,
			eff.SubscriberStatus, now, now, st.SubscriberID); err != nil {
			return none, false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bounce_events SET delivery_status = ?, subscriber_status = ? WHERE id = ?`,
		eff.DeliveryStatus, eff.SubscriberStatus, eventID); err != nil {
		return none, false, err
	}
	return eff, true, tx.Commit()
}

// BounceRecords returns the recorded events matching filter, oldest first.
func (db *DB) BounceRecords(ctx context.Context, filter newsletter.BounceFilter) ([]*newsletter.BounceRecord, error) {
	var out []*newsletter.BounceRecord
	err := db.EachBounceRecord(ctx, filter, func(r *newsletter.BounceRecord) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// EachBounceRecord calls fn for each recorded event matching filter,
// oldest first, one row at a time.
func (db *DB) EachBounceRecord(ctx context.Context, filter newsletter.BounceFilter, fn func(*newsletter.BounceRecord) error) (err error) {
	defer opError("reading the bounce log", &err)
	where, args := "1 = 1", []any{}
	if filter.CampaignID != 0 {
		where, args = "campaign_id = ?", append(args, filter.CampaignID)
	}
	rows, err := db.db.QueryContext(ctx, `SELECT delivery_id, campaign_id, email, kind, source, status, diagnostic, recipient, report_id,
		delivery_status, subscriber_status, reported_at FROM bounce_events WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r newsletter.BounceRecord
		var at string
		if err := rows.Scan(&r.DeliveryID, &r.CampaignID, &r.Email, &r.Kind, &r.Source, &r.Status, &r.Diagnostic, &r.Recipient,
			&r.ReportID, &r.Effect.DeliveryStatus, &r.Effect.SubscriberStatus, &at); err != nil {
			return err
		}
		r.At = parseTime(at)
		if err := fn(&r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CampaignBounces returns the bounce and complaint counts of every
// campaign, by campaign id.
func (db *DB) CampaignBounces(ctx context.Context) (map[int64]newsletter.CampaignBounces, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT campaign_id,
		count(*) FILTER (WHERE status IN ('sent', 'bounced', 'complained')),
		count(*) FILTER (WHERE status = 'bounced'),
		count(*) FILTER (WHERE status = 'complained')
		FROM deliveries GROUP BY campaign_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]newsletter.CampaignBounces{}
	for rows.Next() {
		var c newsletter.CampaignBounces
		if err := rows.Scan(&c.CampaignID, &c.Accepted, &c.Bounced, &c.Complained); err != nil {
			return nil, err
		}
		out[c.CampaignID] = c
	}
	return out, rows.Err()
}

// LastCampaignBounces returns the counts of the newest campaign of list,
// and false when the list has none.
func (db *DB) LastCampaignBounces(ctx context.Context, list string) (newsletter.CampaignBounces, bool, error) {
	var c newsletter.CampaignBounces
	err := db.db.QueryRowContext(ctx, `SELECT c.id,
		(SELECT count(*) FROM deliveries WHERE campaign_id = c.id AND status IN ('sent', 'bounced', 'complained')),
		(SELECT count(*) FROM deliveries WHERE campaign_id = c.id AND status = 'bounced'),
		(SELECT count(*) FROM deliveries WHERE campaign_id = c.id AND status = 'complained')
		FROM campaigns c JOIN lists l ON l.id = c.list_id WHERE l.name = ? ORDER BY c.id DESC LIMIT 1`, list).
		Scan(&c.CampaignID, &c.Accepted, &c.Bounced, &c.Complained)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, err
}
