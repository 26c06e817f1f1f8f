// Package schedule reads the [[schedule]] entries of the config — a 5-field
// cron line in an IANA time zone — and answers when each one fires. It is
// the only package that imports robfig/cron.
//
// A schedule's period is named by its fire time: the run for the period
// that fired at 2026-11-30 09:00 Europe/London is "2026-11-30T09:00:00Z".
// The store records each (schedule, period) once, which is what makes a
// run at most once per period however often it is started.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // time zones work on machines without /usr/share/zoneinfo

	"github.com/robfig/cron/v3"

	"github.com/example/newsletter"
)

// DefaultLookback is how far back a schedule's first digest looks.
const DefaultLookback = 7 * 24 * time.Hour

// Entry is a schedule as the config gives it.
type Entry struct {
	Name, Cron, Timezone, List, Kind string
	Categories                       []string
	Lookback                         string // "7d", "36h"; default 7 days
}

// Schedule is a validated entry.
type Schedule struct {
	Name       string
	Spec       string // the cron line
	List       string
	Kind       string
	Categories []string
	Lookback   time.Duration
	Location   *time.Location

	sched cron.Schedule
}

var parser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// Parse validates entries: names are unique, cron lines have 5 fields,
// time zones exist, kind is digest. Errors name the schedule.
func Parse(entries []Entry) ([]*Schedule, error) {
	var out []*Schedule
	seen := map[string]bool{}
	for i, e := range entries {
		name := e.Name
		bad := func(format string, args ...any) error {
			label := fmt.Sprintf("schedule %q", name)
			if name == "" {
				label = fmt.Sprintf("schedule #%d", i+1)
			}
			return newsletter.Errorf(newsletter.EINVALID, "%s: %w", label, fmt.Errorf(format, args...))
		}
		if name == "" {
			return nil, bad("needs a name")
		}
		if seen[name] {
			return nil, bad("the name is used twice")
		}
		seen[name] = true
		if strings.HasPrefix(strings.TrimSpace(e.Cron), "CRON_TZ=") || strings.HasPrefix(strings.TrimSpace(e.Cron), "TZ=") {
			return nil, bad("put the time zone in timezone =, not in the cron line")
		}
		if n := len(strings.Fields(e.Cron)); n != 5 && !strings.HasPrefix(strings.TrimSpace(e.Cron), "@") {
			return nil, bad("cron %q has %d fields; use 5: minute hour day-of-month month day-of-week, as in \"0 9 * * MON\"", e.Cron, n)
		}
		sched, err := parser.Parse(e.Cron)
		if err != nil {
			return nil, bad("cron %q: %w", e.Cron, err)
		}
		tz := e.Timezone
		if tz == "" {
			tz = "UTC"
		}
		loc, err := time.LoadLocation(tz)
		if err != nil {
			return nil, bad("timezone %q is not an IANA time zone (like Europe/London)", e.Timezone)
		}
		kind := e.Kind
		if kind == "" {
			kind = newsletter.KindDigest
		}
		if kind != newsletter.KindDigest {
			return nil, bad("kind %q: only digest can be scheduled", e.Kind)
		}
		list := e.List
		if list == "" {
			list = newsletter.DefaultList
		}
		lookback, err := ParseLookback(e.Lookback)
		if err != nil {
			return nil, bad("%w", err)
		}
		out = append(out, &Schedule{Name: name, Spec: e.Cron, List: list, Kind: kind, Categories: e.Categories,
			Lookback: lookback, Location: loc, sched: sched})
	}
	return out, nil
}

// ParseLookback reads "7d", "2w" or a Go duration such as "36h"; "" is the
// default of 7 days.
func ParseLookback(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DefaultLookback, nil
	}
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("lookback %q: use a number of days (7d), weeks (2w) or hours (36h)", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("lookback %q: use a number of days (7d), weeks (2w) or hours (36h)", s)
	}
	return d, nil
}

// Next returns the first fire time after t.
func (s *Schedule) Next(t time.Time) time.Time {
	return s.sched.Next(t.In(s.Location))
}

// Prev returns the most recent fire time at or before t, or the zero time
// when it never fired in the year before t.
func (s *Schedule) Prev(t time.Time) time.Time {
	t = t.In(s.Location)
	for _, back := range []time.Duration{25 * time.Hour, 8 * 24 * time.Hour, 32 * 24 * time.Hour, 367 * 24 * time.Hour} {
		var prev time.Time
		// Next is strictly after its argument: start a second early so a
		// fire time exactly at the window's start is seen.
		for next := s.sched.Next(t.Add(-back - time.Second)); !next.After(t); next = s.sched.Next(next) {
			prev = next
		}
		if !prev.IsZero() {
			return prev
		}
	}
	return time.Time{}
}

// Period names the period that fired at t.
func Period(t time.Time) string {
	return t.UTC().Format(time.RFC3339)
}
