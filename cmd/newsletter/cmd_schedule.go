package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/schedule"
)

func (a *app) scheduleCommand() *cobra.Command {
	var f mailFlags
	var once bool
	var now string
	cmd := &cobra.Command{
		Use:   "schedule",
		Short: "Run the [[schedule]] entries of the config: weekly digests",
		Args:  cobra.NoArgs,
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
			scheds, err := cfg.ParsedSchedules()
			if err != nil {
				return err
			}
			if len(scheds) == 0 {
				return newsletter.Errorf(newsletter.EINVALID, "config %s has no [[schedule]] entries (newsletter init writes a weekly one)", a.configPath)
			}
			svc, err := a.service(cmd, &f, true)
			if err != nil {
				return err
			}
			// Deferred deliveries are retried every 15 minutes or so.
			svc.DeferredRetryAfter = 15 * time.Minute
			if once {
				busy, failed := a.runSchedules(cmd.Context(), svc, scheds)
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
				busy, _ := a.runSchedules(ctx, svc, scheds)
				return busy
			})
			a.log.Info("schedule stopped")
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVar(&once, "once", false, "run what is due now, then exit")
	cmd.Flags().StringVar(&now, "now", "", "the clock for the whole run, RFC 3339")
	return cmd
}

// runSchedules runs every schedule that is due, logs each decision, and
// reports whether any was skipped because the sender was busy, and whether
// any failed.
func (a *app) runSchedules(ctx context.Context, svc *campaign.Service, scheds []*schedule.Schedule) (busy, failed bool) {
	for _, d := range svc.RunDue(ctx, scheds) {
		switch {
		case d.Busy:
			busy = true
			a.log.Info("schedule", "name", d.Schedule, "decision", "skipped: sender busy", "holder_pid", d.HolderPID)
		case d.Err != nil:
			failed = true
			a.log.Error("schedule", "name", d.Schedule, "decision", "failed", "err", newsletter.ErrorMessage(d.Err))
		default:
			a.log.Info("schedule", "name", d.Schedule, "decision", d.Text)
		}
	}
	return busy, failed
}
