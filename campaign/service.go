package campaign

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/config"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

// Service sends campaigns. Its fields are set once; a Service may be used by
// one command at a time.
type Service struct {
	cfg       *config.Config // what New read; nil for a Service built by hand
	DB        *sqlite.DB
	Renderer  *templates.Renderer
	Builder   *mailer.Builder
	Signer    *subscribers.Signer
	Transport mailer.Transport
	Options
}

// Options steer a Service. Zero values take the defaults.
type Options struct {
	// PublicURL is where `newsletter serve` answers: links point there.
	PublicURL string
	// UnsubscribeMailto is an optional mailbox for List-Unsubscribe.
	UnsubscribeMailto string
	// NoArchive leaves the "View in browser" link out of messages, for a
	// site that does not serve the web archive.
	NoArchive bool

	Concurrency  int           // SMTP connections at once; default 4
	Rate         float64       // messages per second over all connections; 0 unlimited
	Retries      int           // attempts after a temporary failure
	RetryBackoff time.Duration // first retry delay, doubled each time; default 1s
	LeaseTTL     time.Duration // how long the sender lease lasts unrenewed; default 30s
	// Grace is how long messages in flight may take after an interrupt;
	// default 10s.
	Grace time.Duration
	// QueueLifetime is how long deferred deliveries are retried, counted
	// from the campaign's creation, before they fail; default 72h.
	QueueLifetime time.Duration
	// DeferredRetryAfter is how long a deferred delivery waits before a
	// run retries it: 0 for a run by hand (at once), about 15 minutes for
	// the scheduler.
	DeferredRetryAfter time.Duration

	// VERP, when set, makes each reader's envelope sender name the
	// delivery (bounces+TOKEN@domain), so the bounces that come back
	// reach it ([bounces] return_path).
	VERP *bounces.VERP

	// Now is the clock; default time.Now.
	Now func() time.Time
	// Logger receives debug logs; default discards.
	Logger *slog.Logger
	// Progress is told what happens during a run; default ignores.
	Progress Progress
}

// Progress is told what a run does, in order, so that a caller can print it
// as it happens.
type Progress interface {
	// Resuming is called before an unfinished campaign is sent again;
	// unknown is how many of its deliveries may or may not have arrived.
	Resuming(c *newsletter.Campaign, unknown int)
	// Sending is called before a campaign's pending deliveries are sent; the
	// function it returns is called once per delivery with its new status.
	Sending(c *newsletter.Campaign, pending int) func(status string)
	// Finished is called after each campaign's run.
	Finished(r *Run)
}

type noProgress struct{}

func (noProgress) Resuming(*newsletter.Campaign, int)             {}
func (noProgress) Sending(*newsletter.Campaign, int) func(string) { return nil }
func (noProgress) Finished(*Run)                                  {}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.New(slog.DiscardHandler)
}

func (s *Service) progress() Progress {
	if s.Progress != nil {
		return s.Progress
	}
	return noProgress{}
}

// Outcome is how a campaign's run ended.
type Outcome int

// Outcomes of a run, from best to worst.
const (
	Sent        Outcome = iota // every delivery reached a final status, none failed
	SomeFailed                 // finished, with failed deliveries
	Interrupted                // cancelled; the campaign is resumable
	Unfinished                 // deliveries are left pending; the campaign is resumable
	Aborted                    // an error stopped the run (Run.Err says why); resumable
)

// Run is what one campaign's run did.
type Run struct {
	// Campaign is the campaign as the log holds it after the run.
	Campaign *newsletter.Campaign
	// Resumed says the campaign was unfinished and this run resumed it.
	Resumed bool
	Stats   mailer.Stats
	// Done: no delivery is left pending or sending.
	Done bool
	// Err is why the run stopped early, if it did.
	Err error
}

// Outcome says how the run ended.
func (r *Run) Outcome() Outcome {
	switch {
	case r.Err != nil:
		return Aborted
	case r.Stats.Interrupted:
		return Interrupted
	case !r.Done:
		return Unfinished
	case r.Campaign.Failed > 0:
		return SomeFailed
	}
	return Sent
}

// Problem returns, for a run that left its campaign unfinished for a reason
// other than an interrupt, an error that says why and that the campaign is
// resumable; nil otherwise.
func (r *Run) Problem() error {
	switch r.Outcome() {
	case Aborted:
		return &newsletter.Error{Code: newsletter.ErrorCode(r.Err), Err: r.Err,
			Message: fmt.Sprintf("%s; campaign %d is resumable: run the same command again", newsletter.ErrorMessage(r.Err), r.Campaign.ID)}
	case Unfinished:
		return newsletter.Errorf(newsletter.EINTERNAL, "campaign %d is not finished; run the same command again", r.Campaign.ID)
	}
	return nil
}

// Result is what a send command did: the resumed campaign first, if there
// was one, then the new one.
type Result struct {
	Runs []*Run
	// Expired counts deferred deliveries that ran past the queue lifetime
	// and failed.
	Expired int
	// NothingNew: there was nothing to make a new campaign of.
	NothingNew bool
}

// Last returns the last run, nil when nothing was sent.
func (r *Result) Last() *Run {
	if len(r.Runs) == 0 {
		return nil
	}
	return r.Runs[len(r.Runs)-1]
}

// Worst returns the worst outcome of the runs, Sent when there were none.
func (r *Result) Worst() (Outcome, *Run) {
	worst, which := Sent, (*Run)(nil)
	for _, run := range r.Runs {
		if o := run.Outcome(); o >= worst {
			worst, which = o, run
		}
	}
	return worst, which
}

// uniqueSuffix makes a campaign key that is never used twice.
func uniqueSuffix(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}
