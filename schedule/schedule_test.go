package schedule_test

import (
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/schedule"
)

func mustParse(t *testing.T, e schedule.Entry) *schedule.Schedule {
	t.Helper()
	ss, err := schedule.Parse([]schedule.Entry{e})
	if err != nil {
		t.Fatal(err)
	}
	return ss[0]
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPrevNext(t *testing.T) {
	s := mustParse(t, schedule.Entry{Name: "weekly", Cron: "0 9 * * MON", Timezone: "Europe/London"})
	for _, tc := range []struct{ now, prev, next string }{
		// 2026-11-30 is a Monday; London is on GMT.
		{"2026-11-30T09:00:00Z", "2026-11-30T09:00:00Z", "2026-12-07T09:00:00Z"}, // exactly at the fire time
		{"2026-11-30T08:59:59Z", "2026-11-23T09:00:00Z", "2026-11-30T09:00:00Z"}, // a second before
		{"2026-12-02T12:00:00Z", "2026-11-30T09:00:00Z", "2026-12-07T09:00:00Z"}, // between two periods
		{"2026-12-16T00:00:00Z", "2026-12-14T09:00:00Z", "2026-12-21T09:00:00Z"}, // after missed Mondays: only the latest
	} {
		now := at(t, tc.now)
		if got := s.Prev(now); !got.Equal(at(t, tc.prev)) {
			t.Errorf("Prev(%s) = %s, want %s", tc.now, got.UTC().Format(time.RFC3339), tc.prev)
		}
		if got := s.Next(now); !got.Equal(at(t, tc.next)) {
			t.Errorf("Next(%s) = %s, want %s", tc.now, got.UTC().Format(time.RFC3339), tc.next)
		}
	}
}

// TestDST: a 09:00 Europe/London schedule stays 09:00 local across both
// clock changes of 2026 (29 March forward, 25 October back).
func TestDST(t *testing.T) {
	s := mustParse(t, schedule.Entry{Name: "weekly", Cron: "0 9 * * MON", Timezone: "Europe/London"})
	london, _ := time.LoadLocation("Europe/London")
	want := []string{
		"2026-03-23T09:00:00Z", // GMT
		"2026-03-30T08:00:00Z", // BST: 09:00 local is 08:00 UTC
		"2026-10-19T08:00:00Z",
		"2026-10-26T09:00:00Z", // GMT again
	}
	got := []time.Time{
		s.Next(at(t, "2026-03-20T00:00:00Z")),
		s.Next(at(t, "2026-03-27T00:00:00Z")),
		s.Next(at(t, "2026-10-16T00:00:00Z")),
		s.Next(at(t, "2026-10-23T00:00:00Z")),
	}
	for i := range want {
		if !got[i].Equal(at(t, want[i])) {
			t.Errorf("fire %d = %s, want %s", i, got[i].UTC().Format(time.RFC3339), want[i])
		}
		if l := got[i].In(london); l.Hour() != 9 || l.Minute() != 0 || l.Weekday() != time.Monday {
			t.Errorf("fire %d is %s in London, want Monday 09:00", i, l)
		}
		// Prev of the fire time is itself; periods are distinct.
		if p := s.Prev(got[i]); !p.Equal(got[i]) {
			t.Errorf("Prev(fire %d) = %s", i, p)
		}
	}
}

func TestParse_Errors(t *testing.T) {
	for _, tc := range []struct {
		e    schedule.Entry
		want string
	}{
		{schedule.Entry{Name: "weekly", Cron: "0 9 * *"}, `schedule "weekly": cron "0 9 * *" has 4 fields`},
		{schedule.Entry{Name: "weekly", Cron: "0 25 * * MON"}, `schedule "weekly": cron "0 25 * * MON"`},
		{schedule.Entry{Name: "weekly", Cron: "0 9 * * MON", Timezone: "Mars/Olympus"}, `schedule "weekly": timezone "Mars/Olympus" is not an IANA time zone`},
		{schedule.Entry{Name: "weekly", Cron: "0 9 * * MON", Kind: "article"}, `schedule "weekly": kind "article"`},
		{schedule.Entry{Name: "weekly", Cron: "0 9 * * MON", Lookback: "soon"}, `schedule "weekly": lookback "soon"`},
		{schedule.Entry{Cron: "0 9 * * MON"}, `schedule #1: needs a name`},
		{schedule.Entry{Name: "w", Cron: "CRON_TZ=UTC 0 9 * * MON"}, `schedule "w": put the time zone in timezone =`},
	} {
		_, err := schedule.Parse([]schedule.Entry{tc.e})
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("Parse(%+v) = %v, want %q", tc.e, err, tc.want)
		}
	}
	if _, err := schedule.Parse([]schedule.Entry{{Name: "a", Cron: "0 9 * * MON"}, {Name: "a", Cron: "0 9 * * TUE"}}); err == nil {
		t.Error("a repeated name was accepted")
	}
}

func TestParse_Defaults(t *testing.T) {
	s := mustParse(t, schedule.Entry{Name: "w", Cron: "0 9 * * MON"})
	if s.List != "newsletter" || s.Kind != "digest" || s.Lookback != 7*24*time.Hour || s.Location.String() != "UTC" {
		t.Errorf("defaults: %+v", s)
	}
	for in, want := range map[string]time.Duration{"14d": 14 * 24 * time.Hour, "2w": 14 * 24 * time.Hour, "36h": 36 * time.Hour} {
		if got, err := schedule.ParseLookback(in); err != nil || got != want {
			t.Errorf("ParseLookback(%q) = %v, %v", in, got, err)
		}
	}
}
