package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"sync"

	"github.com/example/newsletter"
)

// deliveryStmts are the statements of the delivery log's writer, prepared
// once per DB. A transaction takes them with tx.StmtContext, which reuses
// the statement already prepared on the transaction's connection instead of
// preparing it again (database/sql keeps one per pooled connection).
type deliveryStmts struct {
	claim, upd, updPending, reset, failed, bounce *sql.Stmt
}

const setDelivery = `UPDATE deliveries SET status = ?, attempts = ?, code = ?, error = ?,
		message_id = CASE WHEN ? = '' THEN message_id ELSE ? END, updated_at = ? WHERE id = ? `

var deliveryQueries = [...]string{
	`UPDATE deliveries SET status = 'sending', attempts = ?, code = ?, error = ?,
		message_id = ?, updated_at = ? WHERE id = ? AND status = 'pending'`,
	setDelivery + `AND status != 'sent'`,
	setDelivery + `AND status = 'pending'`,
	// One statement per transaction for every sent message's subscriber;
	// only rows with failures to forget are written.
	`UPDATE subscribers SET hard_failures = 0 WHERE hard_failures > 0 AND id IN (SELECT value FROM json_each(?))`,
	`UPDATE subscribers SET hard_failures = hard_failures + 1 WHERE id = ?`,
	`UPDATE subscribers SET status = 'bounced', status_changed_at = ?, updated_at = ?
		WHERE id = ? AND status = 'active' AND (? OR hard_failures >= ?)`,
}

// deliveryStatements prepares the writer's statements on first use.
func (db *DB) deliveryStatements(ctx context.Context) (*deliveryStmts, error) {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if db.stmts != nil {
		return db.stmts, nil
	}
	var ps [len(deliveryQueries)]*sql.Stmt
	for i, q := range deliveryQueries {
		st, err := db.db.PrepareContext(ctx, q)
		if err != nil {
			for _, p := range ps[:i] {
				p.Close()
			}
			return nil, err
		}
		ps[i] = st
	}
	db.stmts = &deliveryStmts{claim: ps[0], upd: ps[1], updPending: ps[2], reset: ps[3], failed: ps[4], bounce: ps[5]}
	return db.stmts, nil
}

// closeStatements closes the writer's statements, if prepared.
func (db *DB) closeStatements() {
	db.stmtMu.Lock()
	defer db.stmtMu.Unlock()
	if s := db.stmts; s != nil {
		for _, st := range []*sql.Stmt{s.claim, s.upd, s.updPending, s.reset, s.failed, s.bounce} {
			st.Close()
		}
		db.stmts = nil
	}
}

// deliveryTx is one transaction of the writer.
type deliveryTx struct {
	ctx   context.Context
	tx    *sql.Tx
	st    *deliveryStmts
	bound map[*sql.Stmt]*sql.Stmt // the statements taken into tx so far
	now   string
	sent  []byte // JSON array of the subscribers of sent messages, not yet reset
}

func (t *deliveryTx) stmt(s *sql.Stmt) *sql.Stmt {
	b, ok := t.bound[s]
	if !ok {
		b = t.tx.StmtContext(t.ctx, s)
		t.bound[s] = b
	}
	return b
}

func (t *deliveryTx) close() {
	for _, b := range t.bound {
		b.Close()
	}
}

// resetSent forgets the failures of the subscribers of the messages sent so
// far in the transaction, in one statement.
func (t *deliveryTx) resetSent() error {
	if len(t.sent) == 0 {
		return nil
	}
	_, err := t.stmt(t.st.reset).ExecContext(t.ctx, string(append(t.sent, ']')))
	t.sent = t.sent[:0]
	return err
}

// apply writes one update; lost reports a claim on a delivery no longer
// pending.
func (t *deliveryTx) apply(u newsletter.DeliveryUpdate) (lost bool, err error) {
	if u.Status == newsletter.DeliverySending {
		res, err := t.stmt(t.st.claim).ExecContext(t.ctx, u.Attempts, u.Code, u.Error, u.MessageID, t.now, u.DeliveryID)
		if err != nil {
			return false, err
		}
		n, _ := res.RowsAffected()
		return n == 0, nil
	}
	st := t.st.upd
	if u.Unclaimed {
		st = t.st.updPending
	}
	res, err := t.stmt(st).ExecContext(t.ctx, u.Status, u.Attempts, u.Code, u.Error, u.MessageID, u.MessageID, t.now, u.DeliveryID)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 || u.SubscriberID == 0 {
		return false, nil // another sender's delivery, or already sent
	}
	switch {
	case u.Status == newsletter.DeliverySent:
		if len(t.sent) == 0 {
			t.sent = append(t.sent, '[')
		} else {
			t.sent = append(t.sent, ',')
		}
		t.sent = strconv.AppendInt(t.sent, u.SubscriberID, 10)
	case u.Permanent:
		// The resets queued before it come first, as they were written.
		if err := t.resetSent(); err != nil {
			return false, err
		}
		if _, err := t.stmt(t.st.failed).ExecContext(t.ctx, u.SubscriberID); err != nil {
			return false, err
		}
		if _, err := t.stmt(t.st.bounce).ExecContext(t.ctx, t.now, t.now, u.SubscriberID, u.Bounce, newsletter.HardFailureLimit); err != nil {
			return false, err
		}
	}
	return false, nil
}

func (db *DB) writeDeliveries(ctx context.Context, updates []newsletter.DeliveryUpdate) ([]int64, error) {
	st, err := db.deliveryStatements(ctx)
	if err != nil {
		return nil, err
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	t := &deliveryTx{ctx: ctx, tx: tx, st: st, bound: make(map[*sql.Stmt]*sql.Stmt, 4), now: db.nowText()}
	defer t.close()
	var lost []int64
	for _, u := range updates {
		l, err := t.apply(u)
		if err != nil {
			return nil, err
		}
		if l {
			lost = append(lost, u.DeliveryID)
		}
	}
	if err := t.resetSent(); err != nil {
		return nil, err
	}
	return lost, tx.Commit()
}

// stmtCache is embedded in DB.
type stmtCache struct {
	stmtMu sync.Mutex
	stmts  *deliveryStmts
}
