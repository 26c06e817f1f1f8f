package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"iter"
	"slices"

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
// insertNew stores a subscriber the database does not hold and returns
// its new id.
func (im *importer) insertNew(ctx context.Context, in *newsletter.SubscriberInput, resubscribe bool) (int64, error) {
	st := in.Status
	if st == "" {
		st = newsletter.StatusActive
	}
	// A removed address that had left, bounced or complained comes back
	// with that status: the suppression list outlives the row.
	var was string
	if im.anySuppressed {
		if err := im.suppression.QueryRowContext(ctx, addressHash(im.key, in.Email)).Scan(&was); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	st = newsletter.NextStatus(was, st, resubscribe)
	if st == "" {
		st = newsletter.StatusActive
	}
	id, err := newSubscriberID(im.highID)
	if err != nil {
		return 0, err
	}
	im.highID = id
	if _, err := im.insert.ExecContext(ctx, id, in.Email, in.Name, st, im.now, im.now, im.now); err != nil {
		return 0, err
	}
	return id, im.setCategories(ctx, id, in.Categories)
}

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
		if id, err = im.insertNew(ctx, in, resubscribe); err != nil {
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
		if next := newsletter.NextStatus(status, in.Status, resubscribe); next != status {
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
			if newsletter.ErrorCode(rerr) != newsletter.EINVALID || errors.Is(rerr, newsletter.ErrUnreadableFile) {
				return counts, rerr // a read failure or an unreadable file, not a bad row
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
		// The statements run without ctx's cancellation (go-sqlite3 starts
		// a goroutine per statement to watch a cancellable context); ctx is
		// checked after each row instead.
		r, err := im.upsert(context.WithoutCancel(ctx), in, opts.Lists, opts.Resubscribe)
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
