package mailer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/example/newsletter"
)

// worker sends messages over one connection, reconnecting after errors.
func (r *run) worker(ctx context.Context) {
	var conn Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for rc := range r.work {
		if ctx.Err() != nil {
			return
		}
		if !r.deliver(ctx, rc, &conn) {
			return
		}
	}
}

// deliver handles one recipient; it returns false when the worker must
// stop.
func (r *run) deliver(ctx context.Context, rc *newsletter.Recipient, conn *Conn) bool {
	up := newsletter.DeliveryUpdate{DeliveryID: rc.DeliveryID, SubscriberID: rc.SubscriberID, Attempts: rc.Attempts}
	if rc.SubscriberID == 0 || rc.Status != newsletter.StatusActive {
		why := "removed"
		if rc.SubscriberID != 0 {
			why = rc.Status
		}
		up.Status, up.Error, up.Unclaimed = newsletter.DeliveryFailed, "not sent: the subscriber was "+why+" before sending", true
		r.record(up, "skipped")
		return true
	}
	m, err := r.s.Compose(ctx, rc)
	if err != nil {
		up.Status, up.Error, up.Unclaimed = newsletter.DeliveryFailed, "rendering: "+newsletter.ErrorMessage(err), true
		r.record(up, newsletter.DeliveryFailed)
		return true
	}
	if r.limiter != nil {
		if err := r.limiter.Wait(ctx); err != nil {
			return false // cancelled before anything was marked: stays pending
		}
	}
	// The mark is committed before the message can leave, and it is a
	// claim: a delivery another sender took is not sent twice.
	up.Status, up.MessageID = newsletter.DeliverySending, m.MessageID
	claimed, err := r.write(up, true)
	if err != nil {
		return false
	}
	if !claimed {
		r.s.Logger.Debug("taken by another sender", "email", rc.Email)
		return true
	}
	return r.transmit(ctx, rc, m, up, conn)
}

// transmit sends a claimed message, retrying temporary failures, and logs
// where it ends: sent, failed, deferred, unknown, or back to pending when
// nothing went out and the run is stopping. It returns false when the
// worker must stop.
func (r *run) transmit(ctx context.Context, rc *newsletter.Recipient, m *Built, up newsletter.DeliveryUpdate, conn *Conn) bool {
	for attempt := 0; ; attempt++ {
		if *conn == nil {
			c, err := r.connect(ctx)
			if err != nil {
				// Nothing was sent: back to pending, for the next run.
				up.Status, up.Error = newsletter.DeliveryPending, err.Error()
				r.record(up, newsletter.DeliveryPending)
				if errors.Is(err, ErrUnreachable) {
					r.abort(err)
				}
				return false
			}
			*conn = c
		}
		up.Attempts++
		err := (*conn).Send(r.sendCtx, m)
		if err == nil {
			up.Status, up.Code, up.Error = newsletter.DeliverySent, 250, ""
			r.breaker.success()
			r.record(up, newsletter.DeliverySent)
			return true
		}
		se := classify(err, stageDot)
		if se.Broken {
			(*conn).Close()
			*conn = nil
		}
		up.Code, up.Error = se.Code, se.Error()
		switch {
		case se.Reason == ReasonUnknown:
			up.Status = newsletter.DeliveryUnknown
			r.record(up, newsletter.DeliveryUnknown)
			return r.sendCtx.Err() == nil
		case r.sendCtx.Err() != nil:
			// Cut off by the grace period before the message was complete.
			up.Status = newsletter.DeliveryPending
			r.record(up, newsletter.DeliveryPending)
			return false
		case se.Reason == ReasonRecipient:
			up.Status, up.Permanent, up.Bounce = newsletter.DeliveryFailed, true, se.DeadAddress()
			r.breaker.recipientFailure()
			r.record(up, newsletter.DeliveryFailed)
			return true
		case se.Reason == ReasonSender || se.Reason == ReasonConnection:
			up.Status = newsletter.DeliveryFailed
			r.record(up, newsletter.DeliveryFailed)
			if reset := r.breaker.failure(se, m.From, up); reset != nil {
				r.trip(reset)
				return false
			}
			return true
		case attempt >= r.s.Retries:
			up.Status = newsletter.DeliveryDeferred
			up.Error = fmt.Sprintf("deferred after %d attempts: %s", up.Attempts, se.Error())
			r.record(up, newsletter.DeliveryDeferred)
			return true
		}
		r.s.Logger.Debug("temporary failure; retrying", "email", rc.Email, "attempt", up.Attempts, "error", se.Error())
		if !sleep(ctx, r.backoff(attempt)) {
			// Interrupted while waiting to retry: the server refused this
			// attempt, so the message did not go out.
			up.Status = newsletter.DeliveryPending
			r.record(up, newsletter.DeliveryPending)
			return false
		}
	}
}

// trip stops the run for a fault of the sender's: the deliveries that
// failed with it go back to pending, with the rest, for a run after the
// cause is fixed.
func (r *run) trip(reset []newsletter.DeliveryUpdate) {
	for _, u := range reset {
		u.Status = newsletter.DeliveryPending
		r.write(u, false)
	}
	r.mu.Lock()
	r.stats.Failed -= len(reset)
	r.stats.Requeued += len(reset)
	r.mu.Unlock()
	r.abort(fmt.Errorf("the server refused the sender address %s or its messages %d times with the same reply, which is the sender's problem, not the readers': %s; those deliveries and the rest stay pending: fix the cause, then run the same command again",
		r.breaker.sender(), len(reset), r.breaker.reply()))
}

// connect opens a connection, retrying failures that may pass with
// backoff. The first time a cause is met it is logged as a warning, with
// the server's reply: a refused connection, a TLS or an authentication
// failure must not wait for the end of the run to be seen.
func (r *run) connect(ctx context.Context) (Conn, error) {
	var last error
	for attempt := 0; attempt <= r.s.Retries; attempt++ {
		if attempt > 0 && !sleep(ctx, r.backoff(attempt-1)) {
			return nil, ctx.Err()
		}
		c, err := r.s.Transport.Open(ctx)
		if err == nil {
			return c, nil
		}
		last = err
		if ctx.Err() != nil {
			return nil, ctx.Err() // the run is stopping: not the server's fault
		}
		se := classify(err, stageConnect)
		r.problem(se.Error())
		r.s.Logger.Debug("cannot connect", "transport", r.s.Transport.String(), "attempt", attempt+1, "error", se.Error())
		if !se.Retry {
			break
		}
	}
	return nil, fmt.Errorf("%w: %s: %w", ErrUnreachable, r.s.Transport.String(), last)
}

// problem logs a cause once per run.
func (r *run) problem(msg string) {
	r.mu.Lock()
	seen := r.problems[msg]
	r.problems[msg] = true
	r.mu.Unlock()
	if !seen {
		r.s.Logger.Warn("cannot send through "+r.s.Transport.String(), "error", msg)
	}
}

// backoff is the delay before retry n (0-based): exponential with jitter in
// [d/2, d].
func (r *run) backoff(n int) time.Duration {
	d := r.s.Backoff << min(n, 20)
	if d > r.s.MaxBackoff || d <= 0 {
		d = r.s.MaxBackoff
	}
	return d/2 + rand.N(d/2+1)
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
