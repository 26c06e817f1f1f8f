package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"iter"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// importer holds the prepared statements and caches of one import
// transaction.
type importer struct {
	tx                                  *sql.Tx
	now                                 string
	find, insert, update, setStatus     *sql.Stmt
	delCats, addCat, addMember, members *sql.Stmt
	cats, suppression                   *sql.Stmt
	categoryIDs                         map[string]int64 // key → id
	listIDs                             map[string]int64
	key                                 []byte // of the suppression hashes
	anySuppressed                       bool
	highID                              int64 // the highest subscriber id given so far
}

func newImporter(ctx context.Context, tx *sql.Tx, now string) (*importer, error) {
	im := &importer{tx: tx, now: now, categoryIDs: map[string]int64{}, listIDs: map[string]int64{}}
	for _, p := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&im.find, `SELECT id, name, status FROM subscribers WHERE email = ?`},
		{&im.insert, `INSERT INTO subscribers (id, email, name, status, status_changed_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&im.update, `UPDATE subscribers SET name = ?, updated_at = ? WHERE id = ?`},
		{&im.setStatus, `UPDATE subscribers SET status = ?, status_changed_at = ?, updated_at = ?, hard_failures = 0 WHERE id = ?`},
		{&im.delCats, `DELETE FROM subscriber_categories WHERE subscriber_id = ?`},
		{&im.addCat, `INSERT OR IGNORE INTO subscriber_categories (subscriber_id, category_id, position) VALUES (?, ?, ?)`},
		{&im.addMember, `INSERT OR IGNORE INTO list_members (list_id, subscriber_id, created_at) VALUES (?, ?, ?)`},
		{&im.members, `SELECT list_id FROM list_members WHERE subscriber_id = ?`},
		{&im.cats, `SELECT category_id FROM subscriber_categories WHERE subscriber_id = ? ORDER BY position`},
		{&im.suppression, `SELECT status FROM suppressions WHERE hash = ?`},
	} {
		st, err := tx.PrepareContext(ctx, p.sql)
		if err != nil {
			return nil, err
		}
		*p.dst = st
	}
	var err error
	if im.key, err = suppressionKey(ctx, tx); err != nil {
		im.close()
		return nil, err
	}
	// The transaction holds the write lock, so what is read here holds
	// until it ends.
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM suppressions),
		max(coalesce((SELECT max(id) FROM subscribers), 0), coalesce((SELECT max(id) FROM subscriber_aliases), 0),
			coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'subscriber_id_high'), 0))`).Scan(&im.anySuppressed, &im.highID); err != nil {
		im.close()
		return nil, err
	}
	return im, nil
}

func (im *importer) close() {
	for _, st := range []*sql.Stmt{im.find, im.insert, im.update, im.setStatus, im.delCats, im.addCat, im.addMember, im.members, im.cats, im.suppression} {
		if st != nil {
			st.Close()
		}
	}
}

func (im *importer) categoryID(ctx context.Context, name string) (int64, error) {
	key := newsletter.CategoryKey(name)
	if id, ok := im.categoryIDs[key]; ok {
		return id, nil
	}
	id, err := ensureCategory(ctx, im.tx, name)
	if err == nil {
		im.categoryIDs[key] = id
	}
	return id, err
}

func (im *importer) listID(ctx context.Context, name string) (int64, error) {
	if id, ok := im.listIDs[name]; ok {
		return id, nil
	}
	id, err := ensureList(ctx, im.tx, name, im.now)
	if err == nil {
		im.listIDs[name] = id
	}
	return id, err
}

// ensureList returns the id of the named list, creating it.
func ensureList(ctx context.Context, tx *sql.Tx, name, now string) (int64, error) {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM lists WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		res, err := tx.ExecContext(ctx, `INSERT INTO lists (name, created_at) VALUES (?, ?)`, name, now)
		if err != nil {
			return 0, err
		}
		return res.LastInsertId()
	}
	return id, err
}

// upsert stores one input and says what it did.
func (im *importer) upsert(ctx context.Context, in *newsletter.SubscriberInput, extraLists []string, resubscribe bool) (newsletter.UpsertResult, error) {
	lists := append(slices.Clone(in.Lists), extraLists...)
	if len(lists) == 0 {
		lists = []string{newsletter.DefaultList}
	}
	var id int64
	var name, status string
	err := im.find.QueryRowContext(ctx, in.Email).Scan(&id, &name, &status)
	result := newsletter.Unchanged
	switch {
	case errors.Is(err, sql.ErrNoRows):
		st := in.Status
		if st == "" {
			st = newsletter.StatusActive
		}
		// A removed address that had left, bounced or complained comes
		// back with that status: the suppression list outlives the row.
		var was string
		if im.anySuppressed {
			if err := im.suppression.QueryRowContext(ctx, addressHash(im.key, in.Email)).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return "", err
			}
		}
		st = nextStatus(was, st, resubscribe)
		if st == "" {
			st = newsletter.StatusActive
		}
		if id, err = newSubscriberID(im.highID); err != nil {
			return "", err
		}
		im.highID = id
		if _, err := im.insert.ExecContext(ctx, id, in.Email, in.Name, st, im.now, im.now, im.now); err != nil {
			return "", err
		}
		if err := im.setCategories(ctx, id, in.Categories); err != nil {
			return "", err
		}
		result = newsletter.Added
	case err != nil:
		return "", err
	default:
		if in.HasName && in.Name != name {
			if _, err := im.update.ExecContext(ctx, in.Name, im.now, id); err != nil {
				return "", err
			}
			result = newsletter.Updated
		}
		if next := nextStatus(status, in.Status, resubscribe); next != status {
			if _, err := im.setStatus.ExecContext(ctx, next, im.now, im.now, id); err != nil {
				return "", err
			}
			result = newsletter.Updated
		}
		if in.HasCategories {
			changed, err := im.categoriesDiffer(ctx, id, in.Categories)
			if err != nil {
				return "", err
			}
			if changed {
				if err := im.setCategories(ctx, id, in.Categories); err != nil {
					return "", err
				}
				result = newsletter.Updated
			}
		}
	}
	if resubscribe {
		// The person asked for mail again: forget that they had not.
		if _, err := im.tx.ExecContext(ctx, `DELETE FROM suppressions WHERE hash = ?`, addressHash(im.key, in.Email)); err != nil {
			return "", err
		}
	}
	added, err := im.join(ctx, id, lists)
	if err != nil {
		return "", err
	}
	if added && result == newsletter.Unchanged {
		result = newsletter.Updated
	}
	return result, nil
}

// nextStatus applies the status rule: an unsubscribed, bounced or complained
// address is never made active (or unconfirmed) again except on the
// reader's own request (resubscribe); any other move is allowed.
func nextStatus(current, wanted string, resubscribe bool) string {
	if current == "" {
		return wanted
	}
	if wanted == "" || wanted == current {
		return current
	}
	if newsletter.Blocked(current) && !newsletter.Blocked(wanted) && !resubscribe {
		return current
	}
	return wanted
}

func (im *importer) categoriesDiffer(ctx context.Context, id int64, names []string) (bool, error) {
	rows, err := im.cats.QueryContext(ctx, id)
	if err != nil {
		return false, err
	}
	var have []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return false, err
		}
		have = append(have, c)
	}
	rows.Close()
	if len(have) != len(names) {
		return true, nil
	}
	for i, n := range names {
		cid, err := im.categoryID(ctx, n)
		if err != nil {
			return false, err
		}
		if have[i] != cid {
			return true, nil
		}
	}
	return false, nil
}

func (im *importer) setCategories(ctx context.Context, id int64, names []string) error {
	if _, err := im.delCats.ExecContext(ctx, id); err != nil {
		return err
	}
	for i, n := range names {
		cid, err := im.categoryID(ctx, n)
		if err != nil {
			return err
		}
		if _, err := im.addCat.ExecContext(ctx, id, cid, i); err != nil {
			return err
		}
	}
	return nil
}

// join adds the subscriber to lists and reports whether any membership is
// new.
func (im *importer) join(ctx context.Context, id int64, lists []string) (bool, error) {
	added := false
	for _, l := range lists {
		lid, err := im.listID(ctx, l)
		if err != nil {
			return false, err
		}
		res, err := im.addMember.ExecContext(ctx, lid, id, im.now)
		if err != nil {
			return false, err
		}
		if n, _ := res.RowsAffected(); n > 0 {
			added = true
		}
	}
	return added, nil
}

// ImportSubscribers stores every valid input of rows in one transaction.
// rows yields an EINVALID error for each invalid row; it is passed to
// opts.OnReject and counted (any other error ends the import). With opts.Strict any invalid row rolls the
// whole import back.
func (db *DB) ImportSubscribers(ctx context.Context, rows iter.Seq2[*newsletter.SubscriberInput, error], opts newsletter.ImportOptions) (newsletter.ImportCounts, error) {
	var counts newsletter.ImportCounts
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return counts, err
	}
	defer tx.Rollback()
	im, err := newImporter(ctx, tx, db.nowText())
	if err != nil {
		return counts, err
	}
	defer im.close()
	for in, rerr := range rows {
		if rerr != nil {
			if newsletter.ErrorCode(rerr) != newsletter.EINVALID {
				return counts, rerr // a read failure, not a bad row
			}
			counts.Rejected++
			if opts.OnReject != nil {
				opts.OnReject(rerr)
			}
			continue
		}
		if counts.Rejected > 0 && opts.Strict {
			continue // nothing will be stored; keep reading to report every bad row
		}
		r, err := im.upsert(ctx, in, opts.Lists, opts.Resubscribe)
		if err != nil {
			return counts, err
		}
		switch r {
		case newsletter.Added:
			counts.Added++
		case newsletter.Updated:
			counts.Updated++
		default:
			counts.Unchanged++
		}
		if err := ctx.Err(); err != nil {
			return counts, err
		}
	}
	if opts.Strict && counts.Rejected > 0 {
		return newsletter.ImportCounts{Rejected: counts.Rejected}, newsletter.Errorf(newsletter.EINVALID, "%d invalid row(s); --strict: nothing was stored", counts.Rejected)
	}
	return counts, tx.Commit()
}

// AddSubscriber stores one subscriber. An unsubscribed, bounced or
// complained address is refused unless resubscribe, which makes it active.
func (db *DB) AddSubscriber(ctx context.Context, in *newsletter.SubscriberInput, lists []string, resubscribe bool) (newsletter.UpsertResult, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE email = ?`, in.Email).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		key, err := suppressionKey(ctx, tx)
		if err != nil {
			return "", err
		}
		if status, err = suppressed(ctx, tx, key, in.Email); err != nil {
			return "", err
		} else if status != "" && !resubscribe {
			return "", newsletter.Errorf(newsletter.ECONFLICT, "%s was removed while %s and is remembered so; add --resubscribe only at that person's own request", in.Email, status)
		}
	} else if err != nil {
		return "", err
	}
	if newsletter.Blocked(status) && !resubscribe {
		return "", newsletter.Errorf(newsletter.ECONFLICT, "%s is %s; add --resubscribe only at that person's own request", in.Email, status)
	}
	if resubscribe && in.Status == "" {
		in.Status = newsletter.StatusActive
	}
	im, err := newImporter(ctx, tx, db.nowText())
	if err != nil {
		return "", err
	}
	defer im.close()
	r, err := im.upsert(ctx, in, lists, resubscribe)
	if err != nil {
		return "", err
	}
	return r, tx.Commit()
}

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

// RequestSubscription records a sign-up from the subscribe form for list. A
// new address is stored as unconfirmed with its categories and list; a known
// one keeps its status and lists until it confirms. It returns a nonce when
// a confirmation mail should go out now, and "" when not: not to a bounced
// or complained address (remembered after removal too), not to an active
// member of list, and not twice within cooldown (so the form cannot flood
// a mailbox). The nonce is recorded as sent; CancelConfirmation takes it
// back when the mail could not go.
func (db *DB) RequestSubscription(ctx context.Context, in *newsletter.SubscriberInput, list string, cooldown time.Duration) (*newsletter.Subscriber, string, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, "", err
	}
	defer tx.Rollback()
	now := db.now()
	// The public form may choose categories, never create them.
	for _, c := range in.Categories {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM categories WHERE key = ?`, newsletter.CategoryKey(c)).Scan(&n); err != nil {
			return nil, "", err
		} else if n == 0 {
			return nil, "", newsletter.Errorf(newsletter.EINVALID, "no category %q", c)
		}
	}
	im, err := newImporter(ctx, tx, formatTime(now))
	if err != nil {
		return nil, "", err
	}
	defer im.close()
	var id int64
	var status, sentAt string
	err = tx.QueryRowContext(ctx, `SELECT id, status, confirm_sent_at FROM subscribers WHERE email = ?`, in.Email).Scan(&id, &status, &sentAt)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		was, err := suppressed(ctx, tx, im.key, in.Email)
		if err != nil {
			return nil, "", err
		}
		if was == newsletter.StatusBounced || was == newsletter.StatusComplained {
			return nil, "", tx.Commit()
		}
		in.Status = newsletter.StatusUnconfirmed
		if _, err := im.upsert(ctx, in, []string{list}, false); err != nil {
			return nil, "", err
		}
	case err != nil:
		return nil, "", err
	case status == newsletter.StatusBounced || status == newsletter.StatusComplained:
		return nil, "", tx.Commit()
	default:
		if status == newsletter.StatusActive {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.subscriber_id = ? AND l.name = ?`, id, list).Scan(&n); err != nil {
				return nil, "", err
			} else if n > 0 {
				return nil, "", tx.Commit()
			}
		}
		if t := parseTime(sentAt); !t.IsZero() && now.Sub(t) < cooldown {
			return nil, "", tx.Commit()
		}
		if status == newsletter.StatusUnconfirmed && in.HasCategories {
			if err := im.setCategories(ctx, id, in.Categories); err != nil {
				return nil, "", err
			}
		}
	}
	nonce := newNonce()
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = ?, confirm_nonce = ? WHERE email = ?`, formatTime(now), nonce, in.Email); err != nil {
		return nil, "", err
	}
	if err := tx.Commit(); err != nil {
		return nil, "", err
	}
	s, err := db.SubscriberByEmail(ctx, in.Email)
	if err != nil {
		return nil, "", err
	}
	return s, nonce, nil
}

// newNonce returns 128 random bits, URL-safe.
func newNonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// CancelConfirmation takes back a confirmation that could not be mailed:
// its link will not work, and the cooldown does not hold the next request
// back.
func (db *DB) CancelConfirmation(ctx context.Context, id int64, nonce string) error {
	_, err := db.db.ExecContext(ctx, `UPDATE subscribers SET confirm_sent_at = '', confirm_nonce = '' WHERE id = ? AND confirm_nonce = ?`, id, nonce)
	return err
}

// ConfirmSubscription makes a subscriber active in c.List after they
// followed the link of the confirmation mail sent within maxAge. The link
// works once: its nonce is used up, and a link replaced by a newer one, or
// mailed before the reader unsubscribed, is refused (EINVALID). An
// unsubscribed address is made active this way too, since confirming is the
// person's own request; it joins c.List only, not the lists it left. It
// reports whether anything changed.
func (db *DB) ConfirmSubscription(ctx context.Context, c newsletter.Confirmation, maxAge time.Duration) (bool, error) {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	var email, status, changedAt, sentAt, nonce string
	if err := tx.QueryRowContext(ctx, `SELECT email, status, status_changed_at, confirm_sent_at, confirm_nonce FROM subscribers WHERE id = ?`, c.Subscriber).
		Scan(&email, &status, &changedAt, &sentAt, &nonce); errors.Is(err, sql.ErrNoRows) {
		return false, newsletter.Errorf(newsletter.ENOTFOUND, "no subscriber %d", c.Subscriber)
	} else if err != nil {
		return false, err
	}
	now := db.now()
	if nonce == "" || subtle.ConstantTimeCompare([]byte(nonce), []byte(c.Nonce)) != 1 {
		return false, newsletter.Errorf(newsletter.EINVALID, "this confirmation link was used already or replaced by a newer one; to subscribe, use the form again")
	}
	if t := parseTime(sentAt); t.IsZero() || now.Sub(t) > maxAge {
		return false, newsletter.Errorf(newsletter.EINVALID, "this confirmation link has expired; please subscribe again")
	}
	if newsletter.Blocked(status) && parseTime(changedAt).After(parseTime(sentAt)) {
		return false, newsletter.Errorf(newsletter.EINVALID, "this confirmation link was mailed before %s was %s; to subscribe, use the form again", email, status)
	}
	if status == newsletter.StatusBounced || status == newsletter.StatusComplained {
		return false, newsletter.Errorf(newsletter.EINVALID, "%s cannot be subscribed from the form; please write to us", email)
	}
	nowText := formatTime(now)
	if newsletter.Blocked(status) {
		// Those who left had left every list; confirming joins this one.
		if _, err := tx.ExecContext(ctx, `DELETE FROM list_members WHERE subscriber_id = ?`, c.Subscriber); err != nil {
			return false, err
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = 'active', status_changed_at = CASE WHEN status = 'active' THEN status_changed_at ELSE ? END,
		updated_at = ?, hard_failures = 0, confirm_nonce = '' WHERE id = ?`, nowText, nowText, c.Subscriber); err != nil {
		return false, err
	}
	im, err := newImporter(ctx, tx, nowText)
	if err != nil {
		return false, err
	}
	defer im.close()
	if _, err := im.join(ctx, c.Subscriber, []string{c.List}); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE hash = ?`, addressHash(im.key, email)); err != nil {
		return false, err
	}
	return true, tx.Commit()
}
