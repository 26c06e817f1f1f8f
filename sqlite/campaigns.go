package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/example/newsletter"
)

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
func (db *DB) DigestCandidates(ctx context.Context, list string, since time.Time, categories []string) (arts []*newsletter.Article, err error) {
	defer opError("reading the digest candidates", &err)
	lid, err := listID(ctx, db.db, list)
	if err != nil {
		return nil, err
	}
	keys := categoryKeysJSON(categories)
	return db.queryArticles(ctx, digestCandidatesQuery, since.Format(newsletter.DateLayout), lid, keys, keys)
}

// UnfinishedCampaign returns the list's campaign that is still sending, or
// nil when there is none.
func (db *DB) UnfinishedCampaign(ctx context.Context, list string) (c *newsletter.Campaign, err error) {
	defer opError("looking up the unfinished campaign", &err)
	cs, err := db.campaigns(ctx, `WHERE l.name = ? AND c.status = 'sending'`, list)
	if err != nil || len(cs) == 0 {
		return nil, err
	}
	return cs[0], nil
}

// CreateCampaign creates a campaign and enqueues one pending delivery for
// each active member of the list whose categories meet the campaign's
// articles (a member with no categories takes all), in one transaction and
// one INSERT ... SELECT. A digest with no candidates returns newsletter.ErrNothingNew
// and creates nothing (but records the schedule run when spec names one).
// A list with an unfinished campaign, or a key already used, is ECONFLICT.
func (db *DB) CreateCampaign(ctx context.Context, spec newsletter.CampaignSpec) (c *newsletter.Campaign, err error) {
	defer opError("creating the campaign", &err)
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
	if err := campaignConflicts(ctx, tx, spec, lid); err != nil {
		return nil, err
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
		return nil, newsletter.ErrNothingNew
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
	if err := enqueue(ctx, tx, cid, lid, now); err != nil {
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

func formatDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(newsletter.DateLayout)
}

// CampaignArticles returns the articles of a campaign, newest first.
func (db *DB) CampaignArticles(ctx context.Context, id int64) (arts []*newsletter.Article, err error) {
	defer opError("reading the campaign's articles", &err)
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
		count(CASE WHEN d.status = 'deferred' THEN 1 END),
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
			&c.Recipients, &c.Pending, &c.Sending, &c.Sent, &c.Deferred, &c.Failed, &c.Unknown); err != nil {
			return nil, err
		}
		c.CreatedAt, c.FinishedAt = parseTime(created), parseTime(finished)
		out = append(out, &c)
	}
	return out, rows.Err()
}

// Campaigns returns every campaign, newest first.
func (db *DB) Campaigns(ctx context.Context) (cs []*newsletter.Campaign, err error) {
	defer opError("listing campaigns", &err)
	return db.campaigns(ctx, "")
}

// Campaign returns one campaign.
func (db *DB) Campaign(ctx context.Context, id int64) (c *newsletter.Campaign, err error) {
	defer opError("reading the campaign", &err)
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
func (db *DB) PrepareResume(ctx context.Context, id int64, resendUnknown bool) (unknown int, err error) {
	defer opError("preparing the campaign to resume", &err)
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

// FinishCampaign marks a campaign done when none of its deliveries is
// pending or sending (deferred ones wait for RetryDeferred), and reports
// whether it is done.
func (db *DB) FinishCampaign(ctx context.Context, id int64) (done bool, err error) {
	defer opError("finishing the campaign", &err)
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

// RetryDeferred readies the oldest campaign of a list, with an id above
// after, that has deferred deliveries due for another try: deferred
// deliveries of the list's campaigns created more than lifetime ago fail
// for good; those last tried at or before due become pending, and their
// campaign sending again, so that it is resumed. It returns the campaign readied (nil when none is
// due) and how many deliveries expired.
func (db *DB) RetryDeferred(ctx context.Context, list string, after int64, due time.Time, lifetime time.Duration) (readied *newsletter.Campaign, expiredCount int, err error) {
	defer opError("readying deferred deliveries", &err)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	lid, err := listID(ctx, tx, list)
	if err != nil {
		return nil, 0, err
	}
	now := db.now()
	res, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'failed', updated_at = ?,
		error = 'the queue lifetime ran out: ' || error
		WHERE status = 'deferred' AND campaign_id IN (SELECT id FROM campaigns WHERE list_id = ? AND created_at < ?)`,
		formatTime(now), lid, formatTime(now.Add(-lifetime)))
	if err != nil {
		return nil, 0, err
	}
	expired, _ := res.RowsAffected()
	var cid int64
	err = tx.QueryRowContext(ctx, `SELECT d.campaign_id FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id
		WHERE c.list_id = ? AND c.id > ? AND d.status = 'deferred' AND d.updated_at <= ? ORDER BY d.campaign_id LIMIT 1`,
		lid, after, formatTime(due)).Scan(&cid)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, int(expired), tx.Commit()
	} else if err != nil {
		return nil, 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'pending', updated_at = ?
		WHERE campaign_id = ? AND status = 'deferred' AND updated_at <= ?`, formatTime(now), cid, formatTime(due)); err != nil {
		return nil, 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sending', finished_at = NULL WHERE id = ?`, cid); err != nil {
		return nil, 0, err
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, err
	}
	c, err := db.Campaign(ctx, cid)
	return c, int(expired), err
}

// campaignConflicts refuses a campaign whose schedule period already ran,
// whose list has an unfinished campaign, or whose key was used.
func campaignConflicts(ctx context.Context, tx *sql.Tx, spec newsletter.CampaignSpec, lid int64) error {
	if spec.Schedule != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schedule_runs WHERE schedule = ? AND period = ?`, spec.Schedule, spec.Period).Scan(&n); err != nil {
			return err
		} else if n > 0 {
			return newsletter.Errorf(newsletter.ECONFLICT, "schedule %s already ran for %s", spec.Schedule, spec.Period)
		}
	}
	var busy int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM campaigns WHERE list_id = ? AND status = 'sending'`, lid).Scan(&busy)
	if err == nil {
		return newsletter.Errorf(newsletter.ECONFLICT, "list %s has unfinished campaign %d; it is resumed first", spec.List, busy)
	} else if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaigns WHERE key = ?`, spec.Key).Scan(&n); err != nil {
		return err
	} else if n > 0 {
		return newsletter.Errorf(newsletter.ECONFLICT, "campaign %s was %w", spec.Key, newsletter.ErrAlreadySent)
	}
	return nil
}

// enqueue queues one pending delivery of a campaign for each active member
// of the list whose categories meet the campaign's articles (a member with
// none takes all): the rule of newsletter.MatchArticles, in one
// INSERT ... SELECT.
func enqueue(ctx context.Context, tx *sql.Tx, cid, lid int64, now string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO deliveries (campaign_id, subscriber_id, email, status, updated_at)
		SELECT ?, s.id, s.email, 'pending', ?
		FROM subscribers s JOIN list_members m ON m.subscriber_id = s.id
		WHERE m.list_id = ? AND s.status = 'active'
		AND (NOT EXISTS (SELECT 1 FROM subscriber_categories sc WHERE sc.subscriber_id = s.id)
			OR EXISTS (SELECT 1 FROM subscriber_categories sc
				JOIN article_categories ac ON ac.category_id = sc.category_id
				JOIN campaign_articles ca ON ca.article_id = ac.article_id
				WHERE sc.subscriber_id = s.id AND ca.campaign_id = ?))
		ORDER BY s.id`, cid, now, lid, cid)
	return err
}
