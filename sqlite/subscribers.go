package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"

	"github.com/example/newsletter"
)

// SetSubscriberStatus changes the status of the subscriber with email. It
// returns ENOTFOUND for an unknown address.
func (db *DB) SetSubscriberStatus(ctx context.Context, email, status string) (changed bool, err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var current string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE email = ?`, email).Scan(&current); errors.Is(err, sql.ErrNoRows) {
		return false, newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %s", email)
	} else if err != nil {
		return false, err
	}
	if current == status {
		return false, nil
	}
	now := db.nowText()
	// Leaving also voids the confirmation link in the mailbox, so that it
	// cannot undo this.
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_changed_at = ?, updated_at = ?,
		confirm_nonce = CASE WHEN ? THEN '' ELSE confirm_nonce END WHERE email = ?`, status, now, now, newsletter.Blocked(status), email); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// RemoveSubscriber deletes a subscriber, their categories and memberships.
// The delivery log keeps its rows, with the address. An unsubscribed,
// bounced or complained address is remembered in the suppression list, as
// a keyed hash, so no import, sign-up or add without resubscribe makes it
// active again; it reports that status ("" for none).
func (db *DB) RemoveSubscriber(ctx context.Context, email string) (remembered string, err error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var status string
	if err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE email = ?`, email).Scan(&status); errors.Is(err, sql.ErrNoRows) {
		return "", newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %s", email)
	} else if err != nil {
		return "", err
	}
	if newsletter.Blocked(status) {
		key, err := suppressionKey(ctx, tx)
		if err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO suppressions (hash, status, created_at) VALUES (?, ?, ?)`,
			addressHash(key, email), status, db.nowText()); err != nil {
			return "", err
		}
		remembered = status
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE email = ?`, email); err != nil {
		return "", err
	}
	return remembered, tx.Commit()
}

// EachSubscriber calls fn for each subscriber matching filter, ordered by
// address, without holding them all in memory.
func (db *DB) EachSubscriber(ctx context.Context, filter newsletter.SubscriberFilter, fn func(*newsletter.Subscriber) error) error {
	where, args := []string{"1 = 1"}, []any{}
	if filter.List != "" {
		where = append(where, `s.id IN (SELECT m.subscriber_id FROM list_members m JOIN lists l ON l.id = m.list_id WHERE l.name = ?)`)
		args = append(args, filter.List)
	}
	if filter.Category != "" {
		where = append(where, `(NOT EXISTS (SELECT 1 FROM subscriber_categories sc WHERE sc.subscriber_id = s.id)
			OR s.id IN (SELECT sc.subscriber_id FROM subscriber_categories sc JOIN categories c ON c.id = sc.category_id WHERE c.key = ?))`)
		args = append(args, newsletter.CategoryKey(filter.Category))
	}
	if filter.Status != "" {
		where = append(where, "s.status = ?")
		args = append(args, filter.Status)
	}
	if filter.Email != "" {
		where = append(where, "s.email = ?")
		args = append(args, filter.Email)
	}
	if filter.ID != 0 {
		where = append(where, "s.id = ?")
		args = append(args, filter.ID)
	}
	// Categories and lists come as ordered, \x1f-joined columns so one
	// pass over the rows is enough.
	rows, err := db.db.QueryContext(ctx, `SELECT s.id, s.email, s.name, s.status, s.status_changed_at, s.created_at,
		coalesce((SELECT group_concat(name, char(31)) FROM (SELECT c.name FROM subscriber_categories sc
			JOIN categories c ON c.id = sc.category_id WHERE sc.subscriber_id = s.id ORDER BY sc.position)), ''),
		coalesce((SELECT group_concat(name, char(31)) FROM (SELECT l.name FROM list_members m
			JOIN lists l ON l.id = m.list_id WHERE m.subscriber_id = s.id ORDER BY l.name)), '')
		FROM subscribers s WHERE `+strings.Join(where, " AND ")+` ORDER BY s.email`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s newsletter.Subscriber
		var changed, created, cats, lists string
		if err := rows.Scan(&s.ID, &s.Email, &s.Name, &s.Status, &changed, &created, &cats, &lists); err != nil {
			return err
		}
		s.StatusChangedAt, s.CreatedAt = parseTime(changed), parseTime(created)
		if cats != "" {
			s.Categories = strings.Split(cats, "\x1f")
		}
		if lists != "" {
			s.Lists = strings.Split(lists, "\x1f")
		}
		if err := fn(&s); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Subscribers returns the subscribers matching filter.
func (db *DB) Subscribers(ctx context.Context, filter newsletter.SubscriberFilter) ([]*newsletter.Subscriber, error) {
	var out []*newsletter.Subscriber
	err := db.EachSubscriber(ctx, filter, func(s *newsletter.Subscriber) error {
		out = append(out, s)
		return nil
	})
	return out, err
}

// SubscriberByEmail returns one subscriber.
func (db *DB) SubscriberByEmail(ctx context.Context, email string) (*newsletter.Subscriber, error) {
	out, err := db.Subscribers(ctx, newsletter.SubscriberFilter{Email: email})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %s", email)
	}
	return out[0], nil
}

// SubscriberByID returns one subscriber. An id merged into another
// subscriber (two spellings of one mailbox) returns that subscriber.
func (db *DB) SubscriberByID(ctx context.Context, id int64) (*newsletter.Subscriber, error) {
	out, err := db.Subscribers(ctx, newsletter.SubscriberFilter{ID: id})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		var to int64
		if err := db.db.QueryRowContext(ctx, `SELECT subscriber_id FROM subscriber_aliases WHERE id = ?`, id).Scan(&to); err == nil {
			out, err = db.Subscribers(ctx, newsletter.SubscriberFilter{ID: to})
			if err != nil {
				return nil, err
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
	}
	if len(out) == 0 {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %d", id)
	}
	return out[0], nil
}

// SetSubscriberCategories replaces a subscriber's categories; none means
// every category. Unknown category names are refused.
func (db *DB) SetSubscriberCategories(ctx context.Context, id int64, categories []string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE subscribers SET updated_at = ? WHERE id = ?`, db.nowText(), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %d", id)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM subscriber_categories WHERE subscriber_id = ?`, id); err != nil {
		return err
	}
	for i, name := range newsletter.UniqueCategories(categories) {
		var cid int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM categories WHERE key = ?`, newsletter.CategoryKey(name)).Scan(&cid)
		if errors.Is(err, sql.ErrNoRows) {
			return newsletter.Errorf(newsletter.EINVALID, "no category %q", name)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO subscriber_categories (subscriber_id, category_id, position) VALUES (?, ?, ?)`, id, cid, i); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Lists returns every list with its member counts, by name.
func (db *DB) Lists(ctx context.Context) ([]newsletter.List, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT l.name, count(s.id), count(CASE WHEN s.status = 'active' THEN 1 END)
		FROM lists l LEFT JOIN list_members m ON m.list_id = l.id LEFT JOIN subscribers s ON s.id = m.subscriber_id
		GROUP BY l.id ORDER BY l.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []newsletter.List{}
	for rows.Next() {
		var l newsletter.List
		if err := rows.Scan(&l.Name, &l.Members, &l.Active); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, rows.Err()
}
