package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/example/newsletter"
)

// ErrUnreachable is returned when no connection to the server could be made
// after the retries: the run stops and the campaign stays resumable.
var ErrUnreachable = errors.New("the mail server could not be reached")

// Composer builds the message of one recipient.
type Composer func(ctx context.Context, r *newsletter.Recipient) (*Built, error)

// Sender sends the pending deliveries of a campaign and writes every result
// to the delivery log.
//
// The log is the truth: a delivery is marked sending, with its Message-ID,
// in a committed transaction before its message leaves, and sent only after
// the server's 250. Marks and results of all workers are written together
// (group commit), so a worker's previous result is always committed before
// its next message goes out: after a crash at most Concurrency deliveries
// are left in sending, and they are reported as unknown, never resent.
type Sender struct {
	Log       newsletter.DeliveryLog
	Transport Transport
	Compose   Composer

	Concurrency int           // workers, each with one connection; default 4
	Rate        float64       // messages per second over all workers; 0 unlimited
	Retries     int           // attempts after a temporary failure; default 5
	Backoff     time.Duration // first retry delay, doubled each time; default 1s
	MaxBackoff  time.Duration // default 1 minute
	Flush       time.Duration // longest a result waits to be written; default 250ms
	// Grace is how long messages in flight may take to finish after ctx is
	// cancelled; then their connections are cut, and a message whose end
	// was already written is logged unknown. Default 10s.
	Grace time.Duration
	// OnResult, when set, is called after each delivery reaches a status,
	// by one worker at a time.
	OnResult func(status string)
	Logger   *slog.Logger
}

// Stats sums up a run.
type Stats struct {
	Sent, Failed, Skipped, Deferred, Unknown int
	// Requeued are deliveries left pending (interrupted or server down).
	Requeued    int
	Interrupted bool
	Elapsed     time.Duration
}

// logItem is one write to the log; a mark carries done to be told when it
// is committed, and whether it claimed its delivery.
type logItem struct {
	u    newsletter.DeliveryUpdate
	done chan claimResult
}

type claimResult struct {
	claimed bool
	err     error
}

func (s *Sender) defaults() {
	if s.Concurrency <= 0 {
		s.Concurrency = 4
	}
	if s.Retries < 0 {
		s.Retries = 0
	}
	if s.Backoff <= 0 {
		s.Backoff = time.Second
	}
	if s.MaxBackoff <= 0 {
		s.MaxBackoff = time.Minute
	}
	if s.Flush <= 0 {
		s.Flush = 250 * time.Millisecond
	}
	if s.Grace <= 0 {
		s.Grace = 10 * time.Second
	}
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
}

// Run sends every pending delivery of the campaign. Cancelling ctx stops
// taking new messages; those in flight are finished and logged. It returns
// ErrUnreachable when every worker failed to connect, and any error writing
// the log.
func (s *Sender) Run(ctx context.Context, campaignID int64) (Stats, error) {
	s.defaults()
	start := time.Now()
	run := &run{s: s, items: make(chan logItem, 4*s.Concurrency), work: make(chan *newsletter.Recipient), problems: map[string]bool{}}
	// Messages in flight finish after ctx is cancelled, for Grace at most.
	sendCtx, cancelSend := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSend()
	stopGrace := context.AfterFunc(ctx, func() { time.AfterFunc(s.Grace, cancelSend) })
	defer stopGrace()
	run.sendCtx = sendCtx
	if s.Rate > 0 {
		run.limiter = rate.NewLimiter(rate.Limit(s.Rate), 1)
	}
	// abort stops the dispatcher and workers on a fatal error (the log
	// cannot be written, or the server is down), unlike ctx which asks
	// them to finish what is in flight.
	abortCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	run.abort = func(err error) {
		run.mu.Lock()
		if run.fatal == nil {
			run.fatal = err
		}
		run.mu.Unlock()
		cancel(err)
	}

	writerDone := make(chan error, 1)
	go func() { writerDone <- run.writeLog(context.WithoutCancel(ctx)) }()

	var workers sync.WaitGroup
	for i := 0; i < s.Concurrency; i++ {
		workers.Add(1)
		go func() {
			defer workers.Done()
			run.worker(abortCtx)
		}()
	}
	dispatchErr := run.dispatch(abortCtx, campaignID)
	workers.Wait()
	if reset := run.breaker.final(); reset != nil && run.fatal == nil {
		run.trip(reset)
	}
	close(run.items)
	logErr := <-writerDone

	st := run.stats
	st.Elapsed = time.Since(start)
	st.Interrupted = ctx.Err() != nil
	switch {
	case logErr != nil:
		return st, fmt.Errorf("writing the delivery log: %w", logErr)
	case run.fatal != nil:
		return st, run.fatal
	case dispatchErr != nil && ctx.Err() == nil:
		return st, dispatchErr
	}
	return st, nil
}

type run struct {
	s       *Sender
	items   chan logItem
	work    chan *newsletter.Recipient
	limiter *rate.Limiter
	abort   func(error)

	sendCtx context.Context // ctx, plus Grace after it is cancelled

	mu       sync.Mutex
	stats    Stats
	fatal    error // why the run was aborted
	problems map[string]bool
	breaker  breaker
}

func (r *run) count(status string) {
	r.mu.Lock()
	switch status {
	case newsletter.DeliverySent:
		r.stats.Sent++
	case newsletter.DeliveryFailed:
		r.stats.Failed++
	case newsletter.DeliveryDeferred:
		r.stats.Deferred++
	case newsletter.DeliveryUnknown:
		r.stats.Unknown++
	case "skipped":
		r.stats.Skipped++
	case newsletter.DeliveryPending:
		r.stats.Requeued++
	}
	if r.s.OnResult != nil {
		r.s.OnResult(status)
	}
	r.mu.Unlock()
}

// dispatch feeds pending deliveries to the workers, a page at a time.
func (r *run) dispatch(ctx context.Context, campaignID int64) error {
	defer close(r.work)
	var after int64
	for {
		page, err := r.s.Log.PendingRecipients(ctx, campaignID, after, 256)
		if err != nil {
			if ctx.Err() == nil {
				r.abort(fmt.Errorf("reading the delivery log: %w", err))
			}
			return err
		}
		if len(page) == 0 {
			return nil
		}
		for _, rc := range page {
			select {
			case r.work <- rc:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		after = page[len(page)-1].DeliveryID
	}
}

// write queues an update; with wait it returns once the update is
// committed, and whether a mark claimed its delivery.
func (r *run) write(u newsletter.DeliveryUpdate, wait bool) (bool, error) {
	it := logItem{u: u}
	if wait {
		it.done = make(chan claimResult, 1)
	}
	r.items <- it
	if wait {
		res := <-it.done
		return res.claimed, res.err
	}
	return true, nil
}

// writeLog is the one goroutine that writes the log. A mark (an item with
// done) is written at once together with every result queued before it;
// results alone are written at least every Flush.
func (r *run) writeLog(ctx context.Context) error {
	var batch []logItem
	var failed error
	ticker := time.NewTicker(r.s.Flush)
	defer ticker.Stop()
	flush := func() {
		if len(batch) == 0 {
			return
		}
		err := failed
		lost := map[int64]bool{}
		if err == nil {
			ups := make([]newsletter.DeliveryUpdate, len(batch))
			for i, it := range batch {
				ups[i] = it.u
			}
			var ids []int64
			ids, err = r.s.Log.WriteDeliveries(ctx, ups)
			if err != nil {
				failed = err
				r.abort(fmt.Errorf("writing the delivery log: %w", err))
			}
			for _, id := range ids {
				lost[id] = true
			}
		}
		for _, it := range batch {
			if it.done != nil {
				it.done <- claimResult{claimed: !lost[it.u.DeliveryID], err: err}
			}
		}
		batch = batch[:0]
	}
	for {
		select {
		case it, ok := <-r.items:
			if !ok {
				flush()
				return failed
			}
			batch = append(batch, it)
			urgent := it.done != nil
			// Take whatever else is already queued into the same
			// transaction.
			for more := true; more && len(batch) < 512; {
				select {
				case it2, ok := <-r.items:
					if !ok {
						flush()
						return failed
					}
					batch = append(batch, it2)
					urgent = urgent || it2.done != nil
				default:
					more = false
				}
			}
			if urgent || len(batch) >= 512 {
				flush()
			}
		case <-ticker.C:
			flush()
		}
	}
}

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
			r.breaker.success()
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
		r.breaker.from, len(reset), r.breaker.reply))
}

// record writes a result without waiting and counts it.
func (r *run) record(up newsletter.DeliveryUpdate, counted string) {
	r.write(up, false)
	r.count(counted)
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
	return nil, fmt.Errorf("%w: %s: %v", ErrUnreachable, r.s.Transport.String(), last)
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
