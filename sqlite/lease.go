package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/example/newsletter"
)

// Lease is the one-sender-per-database lock.
type Lease struct {
	Holder    string
	PID       int
	Host      string
	ExpiresAt time.Time
}

// LeaseHeldError says another live process holds the sender lease.
type LeaseHeldError struct {
	Holder Lease
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("another sender is running (pid %d on %s, lease until %s); wait for it to finish",
		e.Holder.PID, e.Holder.Host, e.Holder.ExpiresAt.Local().Format(time.DateTime))
}

// Unwrap makes the error an ECONFLICT application error.
func (e *LeaseHeldError) Unwrap() error {
	return newsletter.Errorf(newsletter.ECONFLICT, "%s", e.Error())
}

// AcquireLease takes the sender lease for ttl when it is free, expired, or
// held by a process that isDead says has died. Otherwise it returns an
// ECONFLICT error naming the holder.
func (db *DB) AcquireLease(ctx context.Context, l Lease, ttl time.Duration, isDead func(Lease) bool) (err error) {
	defer opError("taking the sender lease", &err)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := db.now()
	var cur Lease
	var expires string
	err = tx.QueryRowContext(ctx, `SELECT holder, pid, host, expires_at FROM sender_lease WHERE id = 1`).Scan(&cur.Holder, &cur.PID, &cur.Host, &expires)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		cur.ExpiresAt = parseTime(expires)
		if cur.Holder != l.Holder && cur.ExpiresAt.After(now) && (isDead == nil || !isDead(cur)) {
			return &LeaseHeldError{Holder: cur}
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sender_lease (id, holder, pid, host, expires_at) VALUES (1, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, pid = excluded.pid, host = excluded.host, expires_at = excluded.expires_at`,
		l.Holder, l.PID, l.Host, formatTime(now.Add(ttl))); err != nil {
		return err
	}
	return tx.Commit()
}

// RenewLease extends the lease held by holder; it fails if another took it.
func (db *DB) RenewLease(ctx context.Context, holder string, ttl time.Duration) (err error) {
	defer opError("renewing the sender lease", &err)
	res, err := db.db.ExecContext(ctx, `UPDATE sender_lease SET expires_at = ? WHERE id = 1 AND holder = ?`, formatTime(db.now().Add(ttl)), holder)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return newsletter.Errorf(newsletter.ECONFLICT, "the sender lease was taken over by another process")
	}
	return nil
}

// ReleaseLease gives the lease up if holder has it.
func (db *DB) ReleaseLease(ctx context.Context, holder string) (err error) {
	defer opError("releasing the sender lease", &err)
	_, err = db.db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM sender_lease WHERE id = 1 AND holder = ?`, holder)
	return err
}
