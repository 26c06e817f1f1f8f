package campaign

import (
	"context"
	"fmt"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
)

// resume finishes the list's unfinished campaign, if any, then retries the
// deferred deliveries that are due, a campaign at a time, and reports
// whether the caller may go on to a new campaign (every run reached its
// end: nothing was interrupted or left pending).
func (s *Service) resume(ctx context.Context, list string, resendUnknown bool, res *Result) (bool, error) {
	due := s.now().Add(-s.DeferredRetryAfter)
	var retried int64 // each campaign's deferred deliveries are tried once a run
	for {
		c, err := s.DB.UnfinishedCampaign(ctx, list)
		if err != nil {
			return false, err
		}
		if c != nil {
			unknown, err := s.DB.PrepareResume(ctx, c.ID, resendUnknown)
			if err != nil {
				return false, err
			}
			s.progress().Resuming(c, unknown)
		} else {
			var expired int
			c, expired, err = s.DB.RetryDeferred(ctx, list, retried, due, s.queueLifetime())
			res.Expired += expired
			if err != nil || c == nil {
				return err == nil, err
			}
			s.progress().Resuming(c, 0)
			retried = c.ID
		}
		run, err := s.send(ctx, c, true)
		if err != nil {
			return false, err
		}
		res.Runs = append(res.Runs, run)
		// Failed deliveries are final and reported; they do not hold back
		// what is new. A run that stopped does.
		if run.Outcome() > SomeFailed {
			return false, nil
		}
	}
}

func (s *Service) queueLifetime() time.Duration {
	if s.QueueLifetime > 0 {
		return s.QueueLifetime
	}
	return 72 * time.Hour
}

// send sends a campaign's pending deliveries and returns what the run did.
// An error is returned only when the log cannot be read afterwards; a run
// that stopped early has Run.Err set.
func (s *Service) send(ctx context.Context, c *newsletter.Campaign, resumed bool) (*Run, error) {
	arts, err := s.DB.CampaignArticles(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	spec := messageSpec{kind: c.Kind, list: c.List, campaign: fmt.Sprint(c.ID), articles: arts, issue: c.ID}
	sender := &mailer.Sender{
		Log:         s.DB,
		Transport:   s.Transport,
		Compose:     func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) { return s.compose(spec, r) },
		Concurrency: s.Concurrency,
		Rate:        s.Rate,
		Retries:     s.Retries,
		Backoff:     s.RetryBackoff,
		Grace:       s.Grace,
		Logger:      s.logger(),
	}
	pending := c.Pending + c.Sending
	sender.OnResult = s.progress().Sending(c, pending)
	s.logger().Debug("sending", "campaign", c.ID, "transport", s.Transport.String(), "pending", pending)
	st, runErr := sender.Run(ctx, c.ID)
	done, err := s.DB.FinishCampaign(ctx, c.ID)
	if err != nil && runErr == nil {
		runErr = err
	}
	final, err := s.DB.Campaign(context.WithoutCancel(ctx), c.ID)
	if err != nil {
		return nil, err
	}
	run := &Run{Campaign: final, Resumed: resumed, Stats: st, Done: done, Err: runErr}
	s.progress().Finished(run)
	return run, nil
}
