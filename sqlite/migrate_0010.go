package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/example/newsletter/articles"
)

// normalizeFeedKeys rewrites each stored feed item key
// ("feed:SCOPE#guid:…", "#link:…" or "#item:…") so that its scope is in the
// form articles.FeedScope gives, as new fetches make it. When two stored
// keys turn out to be one (a feed stored again after moving to https), the
// first article stored takes the new key and the other keeps its old one:
// nothing is merged or deleted.
func normalizeFeedKeys(ctx context.Context, tx *sql.Tx, _ string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, key FROM articles WHERE key LIKE 'feed:%' ORDER BY id`)
	if err != nil {
		return err
	}
	type row struct {
		id  int64
		key string
	}
	var rs []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.key); err != nil {
			rows.Close()
			return err
		}
		rs = append(rs, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range rs {
		nk := normalizeFeedKey(r.key)
		if nk == r.key {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET key = ? WHERE id = ?
			AND NOT EXISTS (SELECT 1 FROM articles WHERE key = ?)`, nk, r.id, nk); err != nil {
			return err
		}
	}
	return nil
}

// normalizeFeedKey returns a feed item key with its scope normalised. The
// scope ends at the first "#guid:", "#link:" or "#item:".
func normalizeFeedKey(key string) string {
	rest := strings.TrimPrefix(key, "feed:")
	end := -1
	for _, m := range []string{"#guid:", "#link:", "#item:"} {
		if i := strings.Index(rest, m); i >= 0 && (end < 0 || i < end) {
			end = i
		}
	}
	if end < 0 {
		return key
	}
	return "feed:" + articles.FeedScope(rest[:end]) + rest[end:]
}
