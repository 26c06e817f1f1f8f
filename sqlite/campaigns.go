package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// ErrNothingNew is returned by CreateCampaign when a digest has no
// candidate articles: no campaign is made.
var ErrNothingNew = errors.New("nothing new")

// Secret returns the link-signing secret kept in the database, making one
// on first use. It serves when the config has no unsubscribe.secret.
func (db *DB) Secret(ctx context.Context) (string, error) {
	b := make([]byte, 32)
	rand.Read(b)
	if _, err := db.db.ExecContext(ctx, `INSERT OR IGNORE INTO settings (key, value) VALUES ('link_secret', ?)`, hex.EncodeToString(b)); err != nil {
		return "", err
	}
	var s string
	err := db.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'link_secret'`).Scan(&s)
	return s, err
}

// listID returns the id of a list, ENOTFOUND when it does not exist.
func listID(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM lists WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, newsletter.Errorf(newsletter.ENOTFOUND, "no list %q (lists are made when subscribers join them)", name)
	}
	return id, err
}

// digestCandidatesQuery selects the articles a new digest of a list would
// hold: published on or after a date and in no earlier digest of the list.
const digestCandidatesQuery = `SELECT ` + articleColumns + ` FROM articles a
	WHERE a.published >= ?
	AND NOT EXISTS (SELECT 1 FROM campaign_articles ca JOIN campaigns c ON c.id = ca.campaign_id
		WHERE ca.article_id = a.id AND c.kind = 'digest' AND c.list_id = ?)
	AND (? = '[]' OR a.id IN (SELECT ac.article_id FROM article_categories ac JOIN categories k ON k.id = ac.category_id
		WHERE k.key IN (SELECT value FROM json_each(?))))
	ORDER BY a.published DESC, a.slug`

func categoryKeysJSON(cats []string) string {
	keys := make([]string, 0, len(cats))
	for _, c := range cats {
		k := newsletter.CategoryKey(c)
		k = strings.ReplaceAll(strings.ReplaceAll(k, `\`, `\\`), `"`, `\"`)
		keys = append(keys, `"`+k+`"`)
	}
	return "[" + strings.Join(keys, ",") + "]"
}

// DigestCandidates returns the articles a new digest of list would hold.
func (db *DB) DigestCandidates(ctx context.Context, list string, since time.Time, categories []string) ([]*newsletter.Article, error) {
	lid, err := listID(ctx, db.db, list)
	if err != nil {
		return nil, err
	}
	keys := categoryKeysJSON(categories)
	return db.queryArticles(ctx, digestCandidatesQuery, since.Format(newsletter.DateLayout), lid, keys, keys)
}

// UnfinishedCampaign returns the list's campaign that is still sending, or
// nil when there is none.
func (db *DB) UnfinishedCampaign(ctx context.Context, list string) (*newsletter.Campaign, error) {
	cs, err := db.campaigns(ctx, `WHERE l.name = ? AND c.status = 'sending'`, list)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// CreateCampaign creates a campaign and enqueues one pending delivery for
// each active member of the list whose categories meet the campaign's
// articles (a member with no categories takes all), in one transaction and
// one INSERT ... SELECT. A digest with no candidates returns ErrNothingNew
// and creates nothing (but records the schedule run when spec names one).
// A list with an unfinished campaign, or a key already used, is ECONFLICT.
func (db *DB) CreateCampaign(ctx context.Context, spec newsletter.CampaignSpec) (*newsletter.Campaign, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := db.nowText()
	lid, err := listID(ctx, tx, spec.List)
	if err != nil {
		return nil, err
	}
	if spec.Schedule != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schedule_runs WHERE schedule = ? AND period = ?`, spec.Schedule, spec.Period).Scan(&n); err != nil {
			return nil, err
		} else if n > 0 {
			return nil, newsletter.Errorf(newsletter.ECONFLICT, "schedule %s already ran for %s", spec.Schedule, spec.Period)
		}
	}
	var busy int64
	err = tx.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE list_id = ? AND status = 'sending'`, lid).Scan(&busy)
	if err == nil {
		return nil, newsletter.Errorf(newsletter.ECONFLICT, "list %s has unfinished campaign %d; it is resumed first", spec.List, busy)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaigns WHERE key = ?`, spec.Key).Scan(&n); err != nil {
		return nil, err
	} else if n > 0 {
		return nil, newsletter.Errorf(newsletter.ECONFLICT, "campaign %s was already sent", spec.Key)
	}

	var ids []int64
	switch spec.Kind {
	case newsletter.KindDigest:
		keys := categoryKeysJSON(spec.Categories)
		arts, err := queryArticles(ctx, tx, digestCandidatesQuery, spec.Since.Format(newsletter.DateLayout), lid, keys, keys)
		if err != nil {
			return nil, err
		}
		for _, a := range arts {
			ids = append(ids, a.ID)
		}
	case newsletter.KindArticle:
		ids = spec.ArticleIDs
	default:
		return nil, newsletter.Errorf(newsletter.EINVALID, "unknown campaign kind %q", spec.Kind)
	}
	if len(ids) == 0 {
		if spec.Schedule != "" {
			if err := recordScheduleRun(ctx, tx, spec.Schedule, spec.Period, 0, "nothing new", now); err != nil {
				return nil, err
			}
			if err := tx.Commit(); err != nil {
				return nil, err
			}
		}
		return nil, ErrNothingNew
	}

	res, err := tx.ExecContext(ctx, `INSERT INTO campaigns (kind, list_id, key, subject, status, since, created_at)
		VALUES (?, ?, ?, ?, 'sending', ?, ?)`, spec.Kind, lid, spec.Key, spec.Subject, formatDate(spec.Since), now)
	if err != nil {
		return nil, err
	}
	cid, err := res.LastInsertId()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_articles (campaign_id, article_id) VALUES (?, ?)`, cid, id); err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO deliveries (campaign_id, subscriber_id, email, status, updated_at)
		SELECT ?, s.id, s.email, 'pending', ?
		FROM subscribers s JOIN list_members m ON m.subscriber_id = s.id
		WHERE m.list_id = ? AND s.status = 'active'
		AND (NOT EXISTS (SELECT 1 FROM subscriber_categories sc WHERE sc.subscriber_id = s.id)
			OR EXISTS (SELECT 1 FROM subscriber_categories sc
				JOIN article_categories ac ON ac.category_id = sc.category_id
				JOIN campaign_articles ca ON ca.article_id = ac.article_id
				WHERE sc.subscriber_id = s.id AND ca.campaign_id = ?))
		ORDER BY s.id`, cid, now, lid, cid); err != nil {
		return nil, err
	}
	if spec.Schedule != "" {
		if err := recordScheduleRun(ctx, tx, spec.Schedule, spec.Period, cid, "campaign", now); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return db.Campaign(ctx, cid)
}

func recordScheduleRun(ctx context.Context, tx *sql.Tx, schedule, period string, campaign int64, outcome, now string) error {
	var cid any
	if campaign > 0 {
		cid = campaign
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schedule_runs (schedule, period, campaign_id, outcome, created_at) VALUES (?, ?, ?, ?, ?)`,
		schedule, period, cid, outcome, now)
	return err
}

// LastSchedulePeriod returns the latest period recorded for a schedule, ""
// when it never ran.
func (db *DB) LastSchedulePeriod(ctx context.Context, schedule string) (string, error) {
	var p sql.NullString
	err := db.db.QueryRowContext(ctx, `SELECT max(period) FROM schedule_runs WHERE schedule = ?`, schedule).Scan(&p)
	return p.String, err
}

// ScheduleRan reports whether a schedule already ran for a period.
func (db *DB) ScheduleRan(ctx context.Context, schedule, period string) (bool, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM schedule_runs WHERE schedule = ? AND period = ?`, schedule, period).Scan(&n)
	return n > 0, err
}

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(newsletter.DateLayout)
}

// CampaignArticles returns the articles of a campaign, newest first.
func (db *DB) CampaignArticles(ctx context.Context, id int64) ([]*newsletter.Article, error) {
	return db.queryArticles(ctx, `SELECT `+articleColumns+` FROM articles a
		JOIN campaign_articles ca ON ca.article_id = a.id WHERE ca.campaign_id = ?
		ORDER BY a.published DESC, a.slug`, id)
}

// campaigns returns the campaigns matching a WHERE clause over c (campaigns)
// and l (lists), newest first, with their delivery counts.
func (db *DB) campaigns(ctx context.Context, where string, args ...any) ([]*newsletter.Campaign, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT c.id, c.kind, l.name, c.status, c.subject, c.created_at, coalesce(c.finished_at, ''),
		(SELECT count(*) FROM campaign_articles ca WHERE ca.campaign_id = c.id),
		count(d.id),
		count(CASE WHEN d.status = 'pending' THEN 1 END),
		count(CASE WHEN d.status = 'sending' THEN 1 END),
		count(CASE WHEN d.status = 'sent' THEN 1 END),
		count(CASE WHEN d.status = 'failed' THEN 1 END),
		count(CASE WHEN d.status = 'unknown' THEN 1 END)
		FROM campaigns c JOIN lists l ON l.id = c.list_id LEFT JOIN deliveries d ON d.campaign_id = c.id
		`+where+` GROUP BY c.id ORDER BY c.id DESC`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*newsletter.Campaign
	for rows.Next() {
		var c newsletter.Campaign
		var created, finished string
		if err := rows.Scan(&c.ID, &c.Kind, &c.List, &c.Status, &c.Subject, &created, &finished, &c.Articles,
			&c.Recipients, &c.Pending, &c.Sending, &c.Sent, &c.Failed, &c.Unknown); err != nil {
			return nil, err
		}
		c.CreatedAt, c.FinishedAt = parseTime(created), parseTime(finished)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// Campaigns returns every campaign, newest first.
func (db *DB) Campaigns(ctx context.Context) ([]*newsletter.Campaign, error) {
	return db.campaigns(ctx, "")
}

// Campaign returns one campaign.
func (db *DB) Campaign(ctx context.Context, id int64) (*newsletter.Campaign, error) {
	cs, err := db.campaigns(ctx, "WHERE c.id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no campaign %d", id)
	}
	return cs[0], nil
}

// PrepareResume readies an unfinished campaign for another run: deliveries
// a crashed run left in sending become unknown (they may or may not have
// gone out), and with resendUnknown, unknown deliveries become pending
// again. It returns how many deliveries are unknown.
func (db *DB) PrepareResume(ctx context.Context, id int64, resendUnknown bool) (int, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	now := db.nowText()
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'unknown', updated_at = ?,
		error = 'the sender stopped while this message was being sent; it may or may not have been delivered'
		WHERE campaign_id = ? AND status = 'sending'`, now, id); err != nil {
		return 0, err
	}
	if resendUnknown {
		if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', updated_at = ? WHERE campaign_id = ? AND status = 'unknown'`, now, id); err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sending', finished_at = NULL WHERE id = ?`, id); err != nil {
			return 0, err
		}
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE campaign_id = ? AND status = 'unknown'`, id).Scan(&n); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}

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
func (db *DB) WriteDeliveries(ctx context.Context, updates []newsletter.DeliveryUpdate) ([]int64, error) {
	if len(updates) == 0 {
		return nil, nil
	}
	// The log must be written even when the run is being cancelled: a
	// message that went out must be recorded as sent.
	ctx = context.WithoutCancel(ctx)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := db.nowText()
	claim, err := tx.PrepareContext(ctx, `UPDATE deliveries SET status = 'sending', attempts = ?, code = ?, error = ?,
		message_id = ?, updated_at = ? WHERE id = ? AND status = 'pending'`)
	if err != nil {
		return nil, err
	}
	defer claim.Close()
	const set = `UPDATE deliveries SET status = ?, attempts = ?, code = ?, error = ?,
		message_id = CASE WHEN ? = '' THEN message_id ELSE ? END, updated_at = ? WHERE id = ? `
	upd, err := tx.PrepareContext(ctx, set+`AND status != 'sent'`)
	if err != nil {
		return nil, err
	}
	defer upd.Close()
	updPending, err := tx.PrepareContext(ctx, set+`AND status = 'pending'`)
	if err != nil {
		return nil, err
	}
	defer updPending.Close()
	var lost []int64
	for _, u := range updates {
		if u.Status == newsletter.DeliverySending {
			res, err := claim.ExecContext(ctx, u.Attempts, u.Code, u.Error, u.MessageID, now, u.DeliveryID)
			if err != nil {
				return nil, err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				lost = append(lost, u.DeliveryID)
			}
			continue
		}
		st := upd
		if u.Unclaimed {
			st = updPending
		}
		res, err := st.ExecContext(ctx, u.Status, u.Attempts, u.Code, u.Error, u.MessageID, u.MessageID, now, u.DeliveryID)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 0 || u.SubscriberID == 0 {
			continue // another sender's delivery, or already sent
		}
		switch {
		case u.Status == newsletter.DeliverySent:
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET hard_failures = 0 WHERE id = ? AND hard_failures > 0`, u.SubscriberID); err != nil {
				return nil, err
			}
		case u.Permanent:
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET hard_failures = hard_failures + 1 WHERE id = ?`, u.SubscriberID); err != nil {
				return nil, err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'bounced', status_changed_at = ?, updated_at = ?
				WHERE id = ? AND status = 'active' AND (? OR hard_failures >= 3)`, now, now, u.SubscriberID, u.Bounce); err != nil {
				return nil, err
			}
		}
	}
	return lost, tx.Commit()
}

// FinishCampaign marks a campaign done when none of its deliveries is
// pending or sending, and reports whether it is done.
func (db *DB) FinishCampaign(ctx context.Context, id int64) (bool, error) {
	ctx = context.WithoutCancel(ctx) // runs after an interrupt too
	res, err := db.db.ExecContext(ctx, `UPDATE campaigns SET status = 'done', finished_at = ?
		WHERE id = ? AND status = 'sending'
		AND NOT EXISTS (SELECT 1 FROM deliveries WHERE campaign_id = ? AND status IN ('pending', 'sending'))`, db.nowText(), id, id)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		return true, nil
	}
	var status string
	err = db.db.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = ?`, id).Scan(&status)
	return status == newsletter.CampaignDone, err
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
