package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/example/newsletter"
)

// ensureCategory returns the id of the category with name's key, creating it
// with name as its display spelling when it is new. The latest article's
// spelling wins ("top stories", then "Top Stories" is shown as the latter
// everywhere), except that a spelling all in one case never replaces a
// mixed-case one ("TOP STORIES" after "Top Stories" changes nothing).
func ensureCategory(ctx context.Context, tx *sql.Tx, name string) (int64, error) {
	name = newsletter.CleanCategory(name)
	key := strings.ToLower(name)
	var id int64
	var stored string
	err := tx.QueryRowContext(ctx, `SELECT id, name FROM categories WHERE key = ?`, key).Scan(&id, &stored)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.ExecContext(ctx, `INSERT INTO categories (key, name) VALUES (?, ?)`, key, name)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	} else if err != nil {
		return 0, err
	}
	if name != stored && !(oneCase(name) && !oneCase(stored)) {
		if _, err := tx.ExecContext(ctx, `UPDATE categories SET name = ? WHERE id = ?`, name, id); err != nil {
			return 0, err
		}
	}
	return id, nil
}

// oneCase reports whether s is written all in lower or all in upper case.
func oneCase(s string) bool {
	return s == strings.ToLower(s) || s == strings.ToUpper(s)
}

// keepOtherCategories handles one item stored from two sources that add
// categories of their own (two [[feed]] entries of one site): when the item
// differs from the stored one only in its categories, it takes the union of
// both, so that the sources do not replace each other's categories on every
// fetch, and an item whose categories are all stored already is unchanged.
func keepOtherCategories(ctx context.Context, tx *sql.Tx, a *newsletter.Article, st *storedArticle) error {
	if len(a.Added) == 0 || st.hash == a.Hash {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT c.name FROM article_categories ac JOIN categories c ON c.id = ac.category_id
		WHERE ac.article_id = ? ORDER BY ac.position`, st.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	var stored []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		stored = append(stored, name)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	same := *a
	same.Categories = stored
	same.ComputeHash()
	if same.Hash != st.hash {
		return nil // the item itself changed: its categories replace the stored ones
	}
	a.Categories = newsletter.UniqueCategories(append(stored, a.Categories...))
	a.ComputeHash()
	return nil
}

// storeArticleCategories links a stored article to its categories.
func storeArticleCategories(ctx context.Context, tx *sql.Tx, a *newsletter.Article) error {
	for i, c := range a.Categories {
		cid, err := ensureCategory(ctx, tx, c)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO article_categories (article_id, category_id, position) VALUES (?, ?, ?)`, a.ID, cid, i); err != nil {
			return err
		}
	}
	return nil
}
