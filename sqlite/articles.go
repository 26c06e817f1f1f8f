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

// ensureCategory returns the id of the category with name's key, creating it
// with name as its display spelling when it is new.
func ensureCategory(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	name = newsletter.CleanCategory(name)
	key := strings.ToLower(name)
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM categories WHERE key = ?`, key).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.ExecContext(ctx, `INSERT INTO categories (key, name) VALUES (?, ?)`, key, name)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	return id, err
}

// UpsertArticles stores articles in one transaction: a new slug is added, a
// known slug with a different hash is updated, an identical one is left
// alone. The results are in the order of the input.
func (db *DB) UpsertArticles(ctx context.Context, as []*newsletter.Article) ([]newsletter.UpsertResult, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	results := make([]newsletter.UpsertResult, len(as))
	for i, a := range as {
		r, err := upsertArticle(ctx, tx, a, db.nowText())
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	return results, tx.Commit()
}

func upsertArticle(ctx context.Context, tx *sql.Tx, a *newsletter.Article, now string) (newsletter.UpsertResult, error) {
	if a.Slug == "" || a.Title == "" {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: an article needs a slug and a title", a.Source)
	}
	if a.Hash == "" {
		a.ComputeHash()
	}
	var id int64
	var hash string
	err := tx.QueryRowContext(ctx, `SELECT id, hash FROM articles WHERE slug = ?`, a.Slug).Scan(&id, &hash)
	result := newsletter.Updated
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(ctx, `INSERT INTO articles
			(slug, title, published, summary, body, url, author, source, hash, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Slug, a.Title, a.Date.Format(newsletter.DateLayout), a.Summary, a.Body, a.URL, a.Author, a.Source, a.Hash, now, now)
		if err != nil {
			return "", err
		}
		if id, err = res.LastInsertId(); err != nil {
			return "", err
		}
		result = newsletter.Added
	case err != nil:
		return "", err
	case hash == a.Hash:
		a.ID = id
		return newsletter.Unchanged, nil
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET title = ?, published = ?, summary = ?, body = ?,
			url = ?, author = ?, source = ?, hash = ?, updated_at = ? WHERE id = ?`,
			a.Title, a.Date.Format(newsletter.DateLayout), a.Summary, a.Body, a.URL, a.Author, a.Source, a.Hash, now, id); err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_categories WHERE article_id = ?`, id); err != nil {
			return "", err
		}
	}
	a.ID = id
	for i, c := range a.Categories {
		cid, err := ensureCategory(ctx, tx, c)
		if err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO article_categories (article_id, category_id, position) VALUES (?, ?, ?)`, id, cid, i); err != nil {
			return "", err
		}
	}
	return result, nil
}

const articleColumns = `a.id, a.slug, a.title, a.published, a.summary, a.body, a.url, a.author, a.source, a.hash`

func scanArticle(rows interface{ Scan(...any) error }) (*newsletter.Article, error) {
	var a newsletter.Article
	var published string
	if err := rows.Scan(&a.ID, &a.Slug, &a.Title, &published, &a.Summary, &a.Body, &a.URL, &a.Author, &a.Source, &a.Hash); err != nil {
		return nil, err
	}
	a.Date, _ = time.Parse(newsletter.DateLayout, published)
	return &a, nil
}

// Articles returns the articles matching filter, newest first.
func (db *DB) Articles(ctx context.Context, filter newsletter.ArticleFilter) ([]*newsletter.Article, error) {
	where, args := []string{"1 = 1"}, []any{}
	if filter.Category != "" {
		where = append(where, `a.id IN (SELECT ac.article_id FROM article_categories ac
			JOIN categories c ON c.id = ac.category_id WHERE c.key = ?)`)
		args = append(args, newsletter.CategoryKey(filter.Category))
	}
	if !filter.Since.IsZero() {
		where = append(where, "a.published >= ?")
		args = append(args, filter.Since.Format(newsletter.DateLayout))
	}
	return db.queryArticles(ctx, `SELECT `+articleColumns+` FROM articles a WHERE `+strings.Join(where, " AND ")+
		` ORDER BY a.published DESC, a.slug`, args...)
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryArticles runs a query selecting articleColumns and fills in each
// article's categories.
func (db *DB) queryArticles(ctx context.Context, query string, args ...any) ([]*newsletter.Article, error) {
	return queryArticles(ctx, db.db, query, args...)
}

func queryArticles(ctx context.Context, q querier, query string, args ...any) ([]*newsletter.Article, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*newsletter.Article
	byID := map[int64]*newsletter.Article{}
	for rows.Next() {
		a, err := scanArticle(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		byID[a.ID] = a
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	ids := make([]any, 0, len(out))
	for _, a := range out {
		ids = append(ids, a.ID)
	}
	crows, err := q.QueryContext(ctx, `SELECT ac.article_id, c.name FROM article_categories ac
		JOIN categories c ON c.id = ac.category_id WHERE ac.article_id IN (SELECT value FROM json_each(?))
		ORDER BY ac.article_id, ac.position`, jsonInts(ids))
	if err != nil {
		return nil, err
	}
	defer crows.Close()
	for crows.Next() {
		var id int64
		var name string
		if err := crows.Scan(&id, &name); err != nil {
			return nil, err
		}
		if a := byID[id]; a != nil {
			a.Categories = append(a.Categories, name)
		}
	}
	return out, crows.Err()
}

// ArticleBySlug returns the article with the given slug.
func (db *DB) ArticleBySlug(ctx context.Context, slug string) (*newsletter.Article, error) {
	as, err := db.queryArticles(ctx, `SELECT `+articleColumns+` FROM articles a WHERE a.slug = ?`, slug)
	if err != nil {
		return nil, err
	}
	if len(as) == 0 {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no article with slug %q", slug)
	}
	return as[0], nil
}

// Categories returns every category with its article and subscriber counts,
// by name.
func (db *DB) Categories(ctx context.Context) ([]newsletter.Category, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT c.name,
		(SELECT count(*) FROM article_categories ac WHERE ac.category_id = c.id),
		(SELECT count(*) FROM subscriber_categories sc WHERE sc.category_id = c.id)
		FROM categories c ORDER BY c.key`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []newsletter.Category{}
	for rows.Next() {
		var c newsletter.Category
		if err := rows.Scan(&c.Name, &c.Articles, &c.Subscribers); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// jsonInts encodes ids as a JSON array, for json_each: one parameter for a
// list of any length.
func jsonInts(ids []any) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprint(&b, id)
	}
	b.WriteByte(']')
	return b.String()
}
