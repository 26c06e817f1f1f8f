package mailer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
