package sqlite

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"time"

	"github.com/example/newsletter"
)

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
