package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/schedule"
	"github.com/example/newsletter/sqlite"
)

// Decision is what one schedule did in one pass of RunDue.
type Decision struct {
	Schedule string
	// Text says what was decided, for the log.
	Text string
	// Busy: skipped because another sender holds the lease (HolderPID).
	Busy      bool
	HolderPID int
	// Err is why the schedule failed, if it did.
	Err error
	// Result holds the campaigns sent, if any.
	Result *Result
}

// ScheduledRetryAfter is how long the scheduler lets a deferred delivery
// rest before it tries again (a run by hand tries at once).
const ScheduledRetryAfter = 15 * time.Minute

// RunDue runs every schedule whose most recent fire time has not run yet,
// once, however many periods were missed.
func (s *Service) RunDue(ctx context.Context, scheds []*schedule.Schedule) []Decision {
	if s.DeferredRetryAfter == 0 {
		s.DeferredRetryAfter = ScheduledRetryAfter
	}
	var out []Decision
	for _, sc := range scheds {
		if ctx.Err() != nil {
			break
		}
		d := Decision{Schedule: sc.Name, Result: &Result{}}
		var err error
		d.Text, err = s.runSchedule(ctx, sc, d.Result)
		var held *sqlite.LeaseHeldError
		switch {
		case errors.As(err, &held):
			d.Busy, d.HolderPID, d.Text = true, held.Holder.PID, "skipped: sender busy"
		case err != nil:
			d.Err, d.Text = err, "failed"
		}
		out = append(out, d)
	}
	return out
}

// runSchedule runs one schedule if its most recent period has not run.
func (s *Service) runSchedule(ctx context.Context, sc *schedule.Schedule, res *Result) (string, error) {
	now := s.now()
	fired := sc.Prev(now)
	if fired.IsZero() {
		return "not due yet; next " + sc.Next(now).Format(time.RFC3339), nil
	}
	period := schedule.Period(fired)
	var decision string
	err := s.withLease(ctx, func(ctx context.Context) error {
		// A campaign of this list a crash interrupted goes first.
		if _, err := s.resume(ctx, sc.List, false, res); err != nil {
			return err
		}
		if last := res.Last(); last != nil {
			switch last.Outcome() {
			case Interrupted:
				decision = "interrupted while resuming"
				return nil
			case Aborted, Unfinished:
				return last.Problem()
			}
		}
		ran, err := s.DB.ScheduleRan(ctx, sc.Name, period)
		if err != nil {
			return err
		}
		if ran {
			decision = fmt.Sprintf("period %s already ran; next %s", period, sc.Next(now).Format(time.RFC3339))
			return nil
		}
		s.beforeScheduled(ctx, sc)
		since, err := s.scheduleSince(ctx, sc, now)
		if err != nil {
			return err
		}
		spec := s.digestSpec(sc.List, since, sc.Categories, "schedule:"+sc.Name+":"+period)
		spec.Schedule, spec.Period = sc.Name, period
		c, err := s.create(ctx, spec)
		switch {
		case errors.Is(err, newsletter.ErrNothingNew):
			res.NothingNew = true
			decision = fmt.Sprintf("period %s: nothing new for list %s since %s", period, sc.List, since.Format(newsletter.DateLayout))
			return nil
		case newsletter.ErrorCode(err) == newsletter.ECONFLICT:
			decision = newsletter.ErrorMessage(err)
			return nil
		case err != nil:
			return err
		}
		run, err := s.send(ctx, c, false)
		if err != nil {
			return err
		}
		res.Runs = append(res.Runs, run)
		if err := run.Problem(); err != nil {
			return err
		}
		decision = fmt.Sprintf("period %s: campaign %d to list %s", period, c.ID, sc.List)
		if run.Outcome() == SomeFailed {
			decision += " (some deliveries failed)"
		}
		return nil
	})
	return decision, err
}

// scheduleSince is the oldest publication date a scheduled digest takes:
// the lookback before now, or the date of the schedule's previous period
// when that is older (so periods missed in between lose nothing).
func (s *Service) scheduleSince(ctx context.Context, sc *schedule.Schedule, now time.Time) (time.Time, error) {
	since := now.Add(-sc.Lookback)
	last, err := s.DB.LastSchedulePeriod(ctx, sc.Name)
	if err != nil {
		return time.Time{}, err
	}
	if last != "" {
		if t, err := time.Parse(time.RFC3339, last); err == nil && t.Before(since) {
			since = t
		}
	}
	y, m, d := since.In(sc.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}

// RunDueOnce runs every schedule that is due, logs each decision, and
// reports whether any was skipped because the sender was busy, and whether
// any failed.
func (s *Service) RunDueOnce(ctx context.Context, scheds []*schedule.Schedule) (busy, failed bool) {
	for _, d := range s.RunDue(ctx, scheds) {
		if n := d.Result.Expired; n > 0 {
			s.logger().Warn("schedule: deferred deliveries ran past transport.queue_lifetime and failed", "name", d.Schedule, "failed", n,
				"see", "newsletter deliveries --status failed")
		}
		switch {
		case d.Busy:
			busy = true
			s.logger().Info("schedule", "name", d.Schedule, "decision", "skipped: sender busy", "holder_pid", d.HolderPID)
		case d.Err != nil:
			failed = true
			s.logger().Error("schedule", "name", d.Schedule, "decision", "failed", "err", newsletter.ErrorMessage(d.Err))
		default:
			s.logger().Info("schedule", "name", d.Schedule, "decision", d.Text)
		}
	}
	return busy, failed
}

// RunSchedules logs the schedules, then runs what is due at the start,
// whenever a schedule fires, and every minute while the sender is busy,
// until ctx is cancelled.
func (s *Service) RunSchedules(ctx context.Context, scheds []*schedule.Schedule) {
	for _, sc := range scheds {
		s.logger().Info("schedule", "name", sc.Name, "cron", sc.Spec, "timezone", sc.Location.String(), "list", sc.List, "next", sc.Next(s.now()).Format(time.RFC3339))
	}
	schedule.Run(ctx, scheds, time.Minute, func(ctx context.Context) bool {
		busy, _ := s.RunDueOnce(ctx, scheds)
		return busy
	})
	s.logger().Info("schedule stopped")
}
