package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
)

// UpsertArticles stores articles in one transaction. An article is found by
// its Key (an article without one is keyed by its slug): a new key is added,
// under its slug or, when another article has that slug, the slug with the
// date appended (and a number after that); a known key with a different hash
// is updated and keeps its stored slug; an identical one is left alone. A
// different article is never overwritten. Each article's Slug, URL and Hash
// are set to what is stored. The results are in the order of the input.
func (db *DB) UpsertArticles(ctx context.Context, as []*newsletter.Article) ([]newsletter.UpsertResult, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	// A database opened at an old version (OpenAtVersion, to test upgrades)
	// has no article keys: it is stored by slug, as then.
	var keyed bool
	if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM pragma_table_info('articles') WHERE name = 'key'`).Scan(&keyed); err != nil {
		return nil, err
	}
	results := make([]newsletter.UpsertResult, len(as))
	for i, a := range as {
		r, err := upsertArticle(ctx, tx, a, db.nowText(), keyed)
		if err != nil {
			return nil, err
		}
		results[i] = r
	}
	return results, tx.Commit()
}

// storedArticle is what upsertArticle compares an incoming article with.
type storedArticle struct {
	id         int64
	key        string
	slug, hash string
}

// findArticleByKey returns the article stored under the key, or, for a key
// not yet stored, an article stored before keys existed (keyed by its slug)
// with the same slug and date, or a feed item stored under its old key,
// which the key then adopts.
func findArticleByKey(ctx context.Context, tx *sql.Tx, a *newsletter.Article) (*storedArticle, error) {
	var st storedArticle
	err := tx.QueryRowContext(ctx, `SELECT id, key, slug, hash FROM articles WHERE key = ?`, a.Key).Scan(&st.id, &st.key, &st.slug, &st.hash)
	if errors.Is(err, sql.ErrNoRows) && !strings.HasPrefix(a.Key, slugKeyPrefix) {
		err = tx.QueryRowContext(ctx, `SELECT id, key, slug, hash FROM articles WHERE key = ? AND published = ?`,
			slugKeyPrefix+a.Slug, a.Date.Format(newsletter.DateLayout)).Scan(&st.id, &st.key, &st.slug, &st.hash)
	}
	// A feed item without guid or link stored before its key held its full
	// timestamp is found by its old key (title and day).
	if legacy := articles.LegacyItemKey(a.Key); errors.Is(err, sql.ErrNoRows) && legacy != "" {
		err = tx.QueryRowContext(ctx, `SELECT id, key, slug, hash FROM articles WHERE key = ?`, legacy).Scan(&st.id, &st.key, &st.slug, &st.hash)
	}
	// A Markdown file keyed by its path is the same file when added from
	// another directory: same slug, same date, another path.
	if errors.Is(err, sql.ErrNoRows) && strings.HasPrefix(a.Key, pathKeyPrefix) {
		err = tx.QueryRowContext(ctx, `SELECT id, key, slug, hash FROM articles WHERE key LIKE 'md:path:%' AND slug = ? AND published = ?`,
			a.Slug, a.Date.Format(newsletter.DateLayout)).Scan(&st.id, &st.key, &st.slug, &st.hash)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &st, err
}

// slugKeyPrefix makes the key of an article that comes without one;
// pathKeyPrefix starts the key of a Markdown file without a slug (see
// articles.ParseMarkdown).
const (
	slugKeyPrefix = "slug:"
	pathKeyPrefix = "md:path:"
)

// uniqueSlug returns slug when no article has it, else slug-DATE, else
// slug-DATE-N with N one more than the highest number taken (at least 2),
// found in one query however many articles share the slug.
func uniqueSlug(ctx context.Context, tx *sql.Tx, slug string, date time.Time) (string, error) {
	dated := slug + "-" + date.Format(newsletter.DateLayout)
	prefix := dated + "-"
	// Slugs are ASCII letters, digits and hyphens: the range holds exactly
	// those that start with prefix, and the slug index finds it.
	var slugTaken, datedTaken bool
	var highest int
	err := tx.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM articles WHERE slug = ?),
		EXISTS (SELECT 1 FROM articles WHERE slug = ?),
		coalesce((SELECT max(CAST(substr(slug, ?) AS INTEGER)) FROM articles WHERE slug > ? AND slug < ?), 0)`,
		slug, dated, len(prefix)+1, prefix, prefix+"\x7f").Scan(&slugTaken, &datedTaken, &highest)
	switch {
	case err != nil:
		return "", err
	case !slugTaken:
		return slug, nil
	case !datedTaken:
		return dated, nil
	}
	return fmt.Sprintf("%s%d", prefix, max(highest, 1)+1), nil
}

// setSlug gives a the slug it is stored under. A URL the tool made from the
// site URL and the old slug (a.SlugURL) follows; any other URL (a feed
// item's link, a URL given in front matter) is the publisher's and is kept
// as given, even when it happens to end in the slug.
func setSlug(a *newsletter.Article, slug string) {
	if slug == a.Slug {
		return
	}
	if a.SlugURL && strings.HasSuffix(a.URL, "/"+a.Slug) {
		a.URL = strings.TrimSuffix(a.URL, a.Slug) + slug
	}
	a.Slug = slug
	a.ComputeHash()
}

func upsertArticle(ctx context.Context, tx *sql.Tx, a *newsletter.Article, now string, keyed bool) (newsletter.UpsertResult, error) {
	if a.Slug == "" || a.Title == "" {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: an article needs a slug and a title", a.Source)
	}
	if !keyed {
		return upsertArticleBySlug(ctx, tx, a, now)
	}
	if a.Key == "" {
		a.Key = slugKeyPrefix + a.Slug
	}
	a.ComputeHash()
	st, err := findArticleByKey(ctx, tx, a)
	if err != nil {
		return "", err
	}
	result := newsletter.Updated
	var id int64
	switch {
	case st == nil:
		slug, err := uniqueSlug(ctx, tx, a.Slug, a.Date)
		if err != nil {
			return "", err
		}
		setSlug(a, slug)
		res, err := tx.ExecContext(ctx, `INSERT INTO articles
			(key, slug, title, published, summary, body, url, author, source, hash, image, image_alt, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			a.Key, a.Slug, a.Title, a.Date.Format(newsletter.DateLayout), a.Summary, a.Body, a.URL, a.Author, a.Source, a.Hash, a.Image, a.ImageAlt, now, now)
		if err != nil {
			return "", err
		}
		if id, err = res.LastInsertId(); err != nil {
			return "", err
		}
		result = newsletter.Added
	default:
		setSlug(a, st.slug)
		id = st.id
		if err := keepOtherCategories(ctx, tx, a, st); err != nil {
			return "", err
		}
		if st.hash == a.Hash && st.key == a.Key {
			a.ID = id
			return newsletter.Unchanged, nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE articles SET key = ?, title = ?, published = ?, summary = ?, body = ?,
			url = ?, author = ?, source = ?, hash = ?, image = ?, image_alt = ?, updated_at = ? WHERE id = ?`,
			a.Key, a.Title, a.Date.Format(newsletter.DateLayout), a.Summary, a.Body, a.URL, a.Author, a.Source, a.Hash, a.Image, a.ImageAlt, now, id); err != nil {
			return "", err
		}
		if st.hash == a.Hash {
			result = newsletter.Unchanged // only the key was adopted
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM article_categories WHERE article_id = ?`, id); err != nil {
			return "", err
		}
	}
	a.ID = id
	return result, storeArticleCategories(ctx, tx, a)
}

// upsertArticleBySlug stores an article in a database without article keys.
func upsertArticleBySlug(ctx context.Context, tx *sql.Tx, a *newsletter.Article, now string) (newsletter.UpsertResult, error) {
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
	return result, storeArticleCategories(ctx, tx, a)
}

const articleColumns = `a.id, a.slug, a.title, a.published, a.summary, a.body, a.url, a.author, a.source, a.hash, a.image, a.image_alt`

func scanArticle(rows interface{ Scan(...any) error }) (*newsletter.Article, error) {
	var a newsletter.Article
	var published string
	if err := rows.Scan(&a.ID, &a.Slug, &a.Title, &published, &a.Summary, &a.Body, &a.URL, &a.Author, &a.Source, &a.Hash, &a.Image, &a.ImageAlt); err != nil {
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
	limit := ""
	if filter.Limit > 0 {
		limit = " LIMIT ? OFFSET ?"
		args = append(args, filter.Limit, filter.Offset)
	}
	return db.queryArticles(ctx, `SELECT `+articleColumns+` FROM articles a WHERE `+strings.Join(where, " AND ")+
		` ORDER BY a.published DESC, a.slug`+limit, args...)
}

// EachArticle calls fn for each article matching filter, newest first, a
// page of articles at a time, so that a listing of any size takes little
// memory.
func (db *DB) EachArticle(ctx context.Context, filter newsletter.ArticleFilter, fn func(*newsletter.Article) error) error {
	const page = 500
	for offset := 0; ; offset += page {
		f := filter
		f.Limit, f.Offset = page, offset
		arts, err := db.Articles(ctx, f)
		if err != nil {
			return err
		}
		for _, a := range arts {
			if err := fn(a); err != nil {
				return err
			}
		}
		if len(arts) < page {
			return nil
		}
	}
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
