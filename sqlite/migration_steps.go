package sqlite

import (
	"context"
	"database/sql"
	"errors"

	"github.com/example/newsletter"
	"github.com/example/newsletter/subscribers"
)

// migrationStep returns the Go part of a migration, run after its SQL in
// the same transaction, or nil.
func migrationStep(version int) func(ctx context.Context, tx *sql.Tx, now string) error {
	switch version {
	case 5, 11: // 11: the local part in Unicode NFC
		return normalizeStoredAddresses
	case 10:
		return normalizeFeedKeys
	}
	return nil
}

// statusRank orders statuses for a merge: the one that mails least wins, so
// a person who asked for no mail under one spelling gets none under the
// other.
var statusRank = map[string]int{
	newsletter.StatusUnconfirmed:  0,
	newsletter.StatusActive:       1,
	newsletter.StatusUnsubscribed: 2,
	newsletter.StatusBounced:      3,
	newsletter.StatusComplained:   4,
}

// normalizeStoredAddresses rewrites every stored address into the form
// subscribers.NormalizeEmail gives now (the domain in IDNA ASCII form). Two
// rows that turn out to be one mailbox are merged into the one already in
// that form: memberships are joined, the status that mails least is kept,
// the delivery log points at the kept row (and takes the new spelling
// unless a campaign has both), and the merged row's id becomes
// an alias so the links in its mails keep working for the same person.
// An address that no longer validates is left as it is.
func normalizeStoredAddresses(ctx context.Context, tx *sql.Tx, now string) error {
	type change struct {
		id       int64
		from, to string
	}
	var changes []change
	rows, err := tx.QueryContext(ctx, `SELECT id, email FROM subscribers ORDER BY id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c change
		if err := rows.Scan(&c.id, &c.from); err != nil {
			rows.Close()
			return err
		}
		if to, err := subscribers.NormalizeEmail(c.from); err == nil && to != c.from {
			c.to = to
			changes = append(changes, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range changes {
		// The log follows, where a campaign does not hold both spellings.
		if _, err := tx.ExecContext(ctx, `UPDATE OR IGNORE deliveries SET email = ? WHERE email = ?`, c.to, c.from); err != nil {
			return err
		}
		var keep int64
		var keepStatus, status string
		err := tx.QueryRowContext(ctx, `SELECT id, status FROM subscribers WHERE email = ?`, c.to).Scan(&keep, &keepStatus)
		if errors.Is(err, sql.ErrNoRows) {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET email = ?, updated_at = ? WHERE id = ?`, c.to, now, c.id); err != nil {
				return err
			}
			continue
		} else if err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE id = ?`, c.id).Scan(&status); err != nil {
			return err
		}
		for _, q := range []string{
			`INSERT OR IGNORE INTO list_members (list_id, subscriber_id, created_at) SELECT list_id, ?1, created_at FROM list_members WHERE subscriber_id = ?2`,
			`UPDATE deliveries SET subscriber_id = ?1 WHERE subscriber_id = ?2`,
			`UPDATE subscriber_aliases SET subscriber_id = ?1 WHERE subscriber_id = ?2`,
			`INSERT INTO subscriber_aliases (id, subscriber_id) VALUES (?2, ?1)`,
		} {
			if _, err := tx.ExecContext(ctx, q, keep, c.id); err != nil {
				return err
			}
		}
		if statusRank[status] > statusRank[keepStatus] {
			if _, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_changed_at = ?, updated_at = ? WHERE id = ?`, status, now, now, keep); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM subscribers WHERE id = ?`, c.id); err != nil {
			return err
		}
	}
	return nil
}
