package schedule

import (
	"context"
	"time"

	"github.com/robfig/cron/v3"
)

// cronSchedule adapts a Schedule to robfig/cron, in its time zone.
type cronSchedule struct{ s *Schedule }

func (c cronSchedule) Next(t time.Time) time.Time { return c.s.Next(t) }

// Run calls check once at the start (to catch up on missed periods and
// resume an interrupted send), then whenever any schedule fires, and again
// every retry while check asks for it (the sender was busy). Calls never
// overlap. It returns when ctx is cancelled, after a check in progress has
// finished.
func Run(ctx context.Context, schedules []*Schedule, retry time.Duration, check func(ctx context.Context) (again bool)) {
	trigger := make(chan struct{}, 1)
	poke := func() {
		select {
		case trigger <- struct{}{}:
		default: // a check is already pending; it covers this fire too
		}
	}
	c := cron.New(cron.WithLocation(time.UTC))
	for _, s := range schedules {
		c.Schedule(cronSchedule{s}, cron.FuncJob(poke))
	}
	c.Start()
	defer c.Stop()
	poke()
	var retryC <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		case <-retryC:
		}
		retryC = nil
		if check(ctx) && ctx.Err() == nil {
			retryC = time.After(retry)
		}
	}
}
