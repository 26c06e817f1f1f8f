package sqlite

import (
	"context"
	"database/sql"
)

func recordScheduleRun(ctx context.Context, tx *sql.Tx, schedule, period string, campaign int64, outcome, now string) error {
	var cid any
	if campaign > 0 {
		cid = campaign
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO schedule_runs (schedule, period, campaign_id, outcome, created_at) VALUES (?, ?, ?, ?, ?)`,
		schedule, period, cid, outcome, now)
	return err
}

// LastSchedulePeriod returns the latest period recorded for a schedule, ""
// when it never ran.
func (db *DB) LastSchedulePeriod(ctx context.Context, schedule string) (period string, err error) {
	defer opError("reading the schedule runs", &err)
	var p sql.NullString
	err = db.db.QueryRowContext(ctx, `SELECT max(period) FROM schedule_runs WHERE schedule = ?`, schedule).Scan(&p)
	return p.String, err
}

// ScheduleRan reports whether a schedule already ran for a period.
func (db *DB) ScheduleRan(ctx context.Context, schedule, period string) (ran bool, err error) {
	defer opError("reading the schedule runs", &err)
	var n int
	err = db.db.QueryRowContext(ctx, `SELECT count(*) FROM schedule_runs WHERE schedule = ? AND period = ?`, schedule, period).Scan(&n)
	return n > 0, err
}
