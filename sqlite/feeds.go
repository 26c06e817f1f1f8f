package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/example/newsletter"
)

// FeedValidators returns the ETag and Last-Modified of the last stored fetch
// of the feed name, or "" when it was never fetched or its url has changed
// since.
func (db *DB) FeedValidators(ctx context.Context, name, url string) (etag, lastModified string, err error) {
	err = db.db.QueryRowContext(ctx, `SELECT etag, last_modified FROM feeds WHERE name = ? AND url = ?`, name, url).Scan(&etag, &lastModified)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return etag, lastModified, err
}

// StoreFeed stores the articles of one fetch of a feed (as UpsertArticles
// does) and the fetch's validators, in one transaction: when it fails,
// neither is stored, and the next fetch reads the feed again.
func (db *DB) StoreFeed(ctx context.Context, name, url, etag, lastModified string, as []*newsletter.Article) ([]newsletter.UpsertResult, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	now := db.nowText()
	results := make([]newsletter.UpsertResult, len(as))
	for i, a := range as {
		if results[i], err = upsertArticle(ctx, tx, a, now, true); err != nil {
			return nil, err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feeds (name, url, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET url = excluded.url, etag = excluded.etag,
		last_modified = excluded.last_modified, fetched_at = excluded.fetched_at`,
		name, url, etag, lastModified, now); err != nil {
		return nil, err
	}
	return results, tx.Commit()
}
