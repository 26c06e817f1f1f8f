package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/schedule"
	"github.com/example/newsletter/sqlite"
)

func (a *app) scheduleCommand() *cobra.Command {
	var f sendFlags
	var once bool
	var now string
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the [[schedule]] entries of the config: weekly digests",
		Long: `schedule runs each [[schedule]] of the config when its cron line fires, in its
time zone, as a digest of its list. It runs until SIGTERM or SIGINT, then
finishes the messages in flight, logs, and exits; an interrupted campaign is
resumed on the next start.

With --once it runs every schedule whose most recent fire time has not run yet
— once, however many periods were missed — and exits: for system cron or a
systemd timer. --now sets the clock for the whole run (for tests and
rehearsals).

Each (schedule, period) runs at most once, even with several schedule
processes or a digest by hand at the same time. A period with nothing new is
recorded as run, with no mail. Every decision is logged on stderr.`,
		Example: `  newsletter schedule                  # long-running (see docs/newsletter.service)
  newsletter schedule --once           # from cron or a systemd timer
  newsletter schedule --once --now 2026-11-30T09:05:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if now != "" {
				t, err := time.Parse(time.RFC3339, now)
				if err != nil {
					return usagef("--now %q: use RFC 3339, like 2026-11-30T09:05:00Z", now)
				}
				a.now = func() time.Time { return t }
			}
			cfg, err := a.config(cmd)
			if err != nil {
				return err
			}
			scheds, err := cfg.schedules()
			if err != nil {
				return err
			}
			if len(scheds) == 0 {
				return newsletter.Errorf(newsletter.EINVALID, "config %s has no [[schedule]] entries (newsletter init writes a weekly one)", a.configPath)
			}
			ms, err := a.mailSetup(cmd, &f.mailFlags)
			if err != nil {
				return err
			}
			if _, err := ms.transport(&f.mailFlags); err != nil {
				return err
			}
			if once {
				busy, failed := a.runSchedules(cmd.Context(), ms, &f, scheds)
				switch {
				case cmd.Context().Err() != nil:
					return exitWith(exitInterrupted, nil)
				case failed:
					return exitWith(exitFailure, errors.New("a scheduled run failed; see the log above"))
				case busy:
					a.infof("some schedules were skipped because another sender is running; the next --once catches them up")
				}
				return nil
			}
			for _, s := range scheds {
				a.log.Info("schedule", "name", s.Name, "cron", s.Spec, "timezone", s.Location.String(), "list", s.List, "next", s.Next(a.now()).Format(time.RFC3339))
			}
			schedule.Run(cmd.Context(), scheds, time.Minute, func(ctx context.Context) bool {
				busy, _ := a.runSchedules(ctx, ms, &f, scheds)
				return busy
			})
			a.log.Info("schedule stopped")
			return nil
		},
	}
	f.mailFlags.add(cmd, true)
	cmd.Flags().BoolVar(&once, "once", false, "run what is due now, then exit")
	cmd.Flags().StringVar(&now, "now", "", "the clock for the whole run, RFC 3339")
	return cmd
}

// runSchedules runs every schedule that is due and reports whether any was
// skipped because the sender was busy, and whether any failed.
func (a *app) runSchedules(ctx context.Context, ms *mailSetup, f *sendFlags, scheds []*schedule.Schedule) (busy, failed bool) {
	for _, s := range scheds {
		if ctx.Err() != nil {
			return busy, failed
		}
		decision, err := a.runSchedule(ctx, ms, f, s)
		var held *sqlite.LeaseHeldError
		switch {
		case errors.As(err, &held):
			busy = true
			a.log.Info("schedule", "name", s.Name, "decision", "skipped: sender busy", "holder_pid", held.Holder.PID)
		case err != nil:
			failed = true
			a.log.Error("schedule", "name", s.Name, "decision", "failed", "err", newsletter.ErrorMessage(err))
		default:
			a.log.Info("schedule", "name", s.Name, "decision", decision)
		}
	}
	return busy, failed
}

// runSchedule runs one schedule if its most recent period has not run.
func (a *app) runSchedule(ctx context.Context, ms *mailSetup, f *sendFlags, s *schedule.Schedule) (string, error) {
	now := a.now()
	fired := s.Prev(now)
	if fired.IsZero() {
		return "not due yet; next " + s.Next(now).Format(time.RFC3339), nil
	}
	period := schedule.Period(fired)
	var decision string
	err := a.withLease(ctx, ms.db, func(ctx context.Context) error {
		sf := *f
		sf.list = s.List
		// A campaign of this list a crash interrupted goes first.
		if code, err := a.resume(ctx, ms, &sf); err != nil {
			return err
		} else if code == exitInterrupted {
			decision = "interrupted while resuming"
			return nil
		}
		ran, err := ms.db.ScheduleRan(ctx, s.Name, period)
		if err != nil {
			return err
		}
		if ran {
			decision = fmt.Sprintf("period %s already ran; next %s", period, s.Next(now).Format(time.RFC3339))
			return nil
		}
		a.fetchScheduleFeeds(ctx, ms.db, s.Name, s.List) // new feed items go into this digest
		since, err := a.scheduleSince(ctx, ms.db, s, now)
		if err != nil {
			return err
		}
		c, err := ms.db.CreateCampaign(ctx, newsletter.CampaignSpec{
			Kind: newsletter.KindDigest, List: s.List, Key: "schedule:" + s.Name + ":" + period,
			Since: since, Categories: s.Categories, Schedule: s.Name, Period: period,
		})
		switch {
		case errors.Is(err, sqlite.ErrNothingNew):
			decision = fmt.Sprintf("period %s: nothing new for list %s since %s", period, s.List, since.Format(newsletter.DateLayout))
			return nil
		case newsletter.ErrorCode(err) == newsletter.ECONFLICT:
			decision = newsletter.ErrorMessage(err)
			return nil
		case err != nil:
			return err
		}
		code, err := a.sendCampaign(ctx, ms, &sf, c)
		if err != nil {
			return err
		}
		decision = fmt.Sprintf("period %s: campaign %d to list %s", period, c.ID, s.List)
		if code == exitSomeFailed {
			decision += " (some deliveries failed)"
		}
		return nil
	})
	return decision, err
}

// scheduleSince is the oldest publication date a scheduled digest takes:
// the lookback before now, or the date of the schedule's previous period
// when that is older (so periods missed in between lose nothing).
func (a *app) scheduleSince(ctx context.Context, db *sqlite.DB, s *schedule.Schedule, now time.Time) (time.Time, error) {
	since := now.Add(-s.Lookback)
	last, err := db.LastSchedulePeriod(ctx, s.Name)
	if err != nil {
		return time.Time{}, err
	}
	if last != "" {
		if t, err := time.Parse(time.RFC3339, last); err == nil && t.Before(since) {
			since = t
		}
	}
	y, m, d := since.In(s.Location).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC), nil
}
