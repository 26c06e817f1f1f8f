package main

import (
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/example/newsletter"
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
			if once {
				busy, failed := svc.RunDueOnce(cmd.Context(), scheds)
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
			svc.RunSchedules(cmd.Context(), scheds)
			return nil
		},
	}
	f.add(cmd, true)
	cmd.Flags().BoolVar(&once, "once", false, "run what is due now, then exit")
	cmd.Flags().StringVar(&now, "now", "", "the clock for the whole run, RFC 3339")
	return cmd
}
