package sqlite

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/example/newsletter"
)

// queryer is a transaction or the database.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Subscriber ids are a sequence number above a random part: the low
// idRandomBits bits are random, the bits above count up past every id ever
// given (settings.subscriber_id_high remembers deleted ones). So an id is
// never given twice in one database, and the id in a link from another
// database signed with the same secret names nobody here but by a 2^-30
// chance; new rows still go in id order, which keeps inserts fast.
const idRandomBits = 30

// newSubscriberID returns an id above high, the highest id given so far.
func newSubscriberID(high int64) (int64, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	return (high>>idRandomBits+1)<<idRandomBits | int64(binary.BigEndian.Uint64(b[:])&(1<<idRandomBits-1)), nil
}

// suppressionKey returns the key of the address hashes.
func suppressionKey(ctx context.Context, q queryer) ([]byte, error) {
	var k string
	if err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = 'suppression_key'`).Scan(&k); err != nil {
		return nil, err
	}
	return hex.DecodeString(k)
}

// addressHash is the keyed hash that stands for an address in the
// suppression list and, after an erasure, in the delivery log.
func addressHash(key []byte, email string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(email))
	return hex.EncodeToString(h.Sum(nil))
}

// suppressed returns the status under which a removed address was
// remembered, or "".
func suppressed(ctx context.Context, q queryer, key []byte, email string) (string, error) {
	var status string
	err := q.QueryRowContext(ctx, `SELECT status FROM suppressions WHERE hash = ?`, addressHash(key, email)).Scan(&status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return status, err
}

// ForgetSubscriber is an erasure request (GDPR article 17): it deletes the
// subscriber like RemoveSubscriber, but also drops the address's hash from
// the suppression list, so nothing stops it being added again, and replaces
// the address in the delivery log (and in its error texts) by that hash.
// Deliveries not yet sent to it are marked failed. It returns ENOTFOUND when
// the store holds nothing of the address.
func (db *DB) ForgetSubscriber(ctx context.Context, email string) error {
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	key, err := suppressionKey(ctx, tx)
	if err != nil {
		return err
	}
	hash := addressHash(key, email)
	now := db.nowText()
	var found int64
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`DELETE FROM subscribers WHERE email = ?`, []any{email}},
		{`DELETE FROM suppressions WHERE hash = ?`, []any{hash}},
		{`UPDATE deliveries SET status = 'failed', error = 'the address was erased (subscribers remove --forget)', updated_at = ?
			WHERE email = ? AND status = 'pending'`, []any{now, email}},
		{`UPDATE deliveries SET email = ?, error = replace(error, ?, ?) WHERE email = ?`, []any{forgottenAddress(hash), email, forgottenAddress(hash), email}},
		{`UPDATE bounce_events SET email = replace(email, ?1, ?2), recipient = replace(lower(recipient), lower(?1), ?2),
			diagnostic = replace(replace(diagnostic, ?1, ?2), lower(?1), ?2)
			WHERE email = ?1 OR lower(recipient) = lower(?1) OR instr(lower(diagnostic), lower(?1)) > 0`, []any{email, forgottenAddress(hash)}},
	} {
		res, err := tx.ExecContext(ctx, q.sql, q.args...)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		found += n
	}
	if found == 0 {
		return newsletter.Errorf(newsletter.ENOTFOUND, "nothing is stored of %s", email)
	}
	return tx.Commit()
}

// forgottenAddress is what stands in the delivery log for an erased
// address: its keyed hash, marked as such.
func forgottenAddress(hash string) string { return "erased:" + hash }

// isForgotten reports whether a delivery's address was erased.
func isForgotten(email string) bool { return strings.HasPrefix(email, "erased:") }

// replaceFold replaces old in s by new, whatever the case of old in s.
func replaceFold(s, old, new string) string {
	if old == "" {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if i+len(old) <= len(s) && strings.EqualFold(s[i:i+len(old)], old) {
			b.WriteString(new)
			i += len(old)
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}

// Suppressed returns the status that keeps email from being mailed: the
// subscriber's unsubscribed, bounced or complained status, or the one the
// address was removed with. It returns "" for an address that may be
// mailed or that the store does not know.
func (db *DB) Suppressed(ctx context.Context, email string) (string, error) {
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return "", err
	}
	defer tx.Rollback()
	var status string
	err = tx.QueryRowContext(ctx, `SELECT status FROM subscribers WHERE email = ?`, email).Scan(&status)
	if err == nil {
		if newsletter.Blocked(status) {
			return status, nil
		}
		return "", nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	key, err := suppressionKey(ctx, tx)
	if err != nil {
		return "", err
	}
	return suppressed(ctx, tx, key, email)
}
