package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/example/newsletter"
)

// issueWhere selects the campaigns the archive shows: those that reached at
// least one reader.
const issueWhere = `EXISTS (SELECT 1 FROM deliveries d WHERE d.campaign_id = c.id AND d.status = 'sent')`

// Issues returns at most limit campaigns that reached readers, newest
// first, each with its articles.
func (db *DB) Issues(ctx context.Context, limit int) ([]*newsletter.Issue, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT c.id, c.kind, c.subject, c.created_at FROM campaigns c
		WHERE `+issueWhere+` ORDER BY c.created_at DESC, c.id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	var out []*newsletter.Issue
	for rows.Next() {
		var is newsletter.Issue
		var created string
		if err := rows.Scan(&is.ID, &is.Kind, &is.Subject, &created); err != nil {
			rows.Close()
			return nil, err
		}
		is.Date = parseTime(created)
		out = append(out, &is)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, is := range out {
		if is.Articles, err = db.CampaignArticles(ctx, is.ID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Issue returns one campaign that reached readers, with its articles; any
// other ID is ENOTFOUND.
func (db *DB) Issue(ctx context.Context, id int64) (*newsletter.Issue, error) {
	var is newsletter.Issue
	var created string
	err := db.db.QueryRowContext(ctx, `SELECT c.id, c.kind, c.subject, c.created_at FROM campaigns c
		WHERE c.id = ? AND `+issueWhere, id).Scan(&is.ID, &is.Kind, &is.Subject, &created)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no issue %d", id)
		}
		return nil, err
	}
	is.Date = parseTime(created)
	if is.Articles, err = db.CampaignArticles(ctx, id); err != nil {
		return nil, err
	}
	return &is, nil
}

// Published reports whether an article was in an issue that reached
// readers: only those are shown on the web archive.
func (db *DB) Published(ctx context.Context, articleID int64) (published bool, err error) {
	defer opError("looking up the article's issues", &err)
	err = db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_articles ca JOIN campaigns c ON c.id = ca.campaign_id
		WHERE ca.article_id = ? AND `+issueWhere+`)`, articleID).Scan(&published)
	return published, err
}
