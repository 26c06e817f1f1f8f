package articles

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/araddon/dateparse"
)

// zoneNames maps zone names that feeds write and Go does not know to the
// IANA zone they mean. US feeds write "ET" for Eastern time, whichever of
// EST or EDT applies that day.
var zoneNames = map[string]string{
	"ET": "America/New_York", "EST": "America/New_York", "EDT": "America/New_York",
	"CT": "America/Chicago", "CST": "America/Chicago", "CDT": "America/Chicago",
	"MT": "America/Denver", "MST": "America/Denver", "MDT": "America/Denver",
	"PT": "America/Los_Angeles", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
	"UT": "UTC", "UTC": "UTC", "GMT": "UTC", "Z": "UTC",
}

var (
	numericOffset = regexp.MustCompile(`([+-])(\d\d):?(\d\d)$`)
	dayComma      = regexp.MustCompile(`^((?:[A-Za-z]+,?\s+)?\d{1,2}\s+[A-Za-z]+),(\s+\d{4})`)
	yearMonth     = regexp.MustCompile(`^(\d{4})-(\d{2})$`)
)

// feedDate reads a feed item's date. parsed is what the feed library made of
// raw (nil when it could not read it); the library's parse is preferred and
// dateparse reads what it cannot. The result keeps the offset written in raw,
// so the day is the item's own day, not UTC's. A year outside 1000–9999 is
// refused however the date was read.
func feedDate(raw string, parsed *time.Time) (time.Time, bool) {
	t, ok := readFeedDate(strings.TrimSpace(raw), parsed)
	if !ok || t.Year() < 1000 || t.Year() > 9999 {
		return time.Time{}, false
	}
	return t, true
}

// readFeedDate is feedDate without the bounds on the year.
func readFeedDate(raw string, parsed *time.Time) (time.Time, bool) {
	if parsed != nil && !parsed.IsZero() {
		if loc := rawZone(raw); loc != nil {
			return parsed.In(loc), true
		}
		return *parsed, true
	}
	if raw == "" {
		return time.Time{}, false
	}
	if m := yearMonth.FindStringSubmatch(raw); m != nil {
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		if mo >= 1 && mo <= 12 {
			return time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC), true
		}
		return time.Time{}, false
	}
	s := dayComma.ReplaceAllString(raw, "$1$2") // "13 Feb, 2012" → "13 Feb 2012"
	loc := time.UTC
	if i := strings.LastIndexAny(s, " \t"); i > 0 {
		if l := namedZone(s[i+1:]); l != nil {
			s, loc = strings.TrimSpace(s[:i]), l
		}
	}
	t, err := dateparse.ParseIn(s, loc)
	return t, err == nil
}

// rawZone returns the location that a date string names at its end: a
// numeric offset or a zone name; nil when there is none.
func rawZone(raw string) *time.Location {
	if m := numericOffset.FindStringSubmatch(raw); m != nil {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		off := h*3600 + mi*60
		if m[1] == "-" {
			off = -off
		}
		return time.FixedZone("", off)
	}
	if i := strings.LastIndexAny(raw, " \t"); i > 0 {
		return namedZone(raw[i+1:])
	}
	return nil
}

// namedZone returns the location of a zone name ("ET", "Etc/GMT",
// "Europe/London"), or nil when name is not one.
func namedZone(name string) *time.Location {
	if z, ok := zoneNames[strings.ToUpper(name)]; ok {
		name = z
	} else if !strings.Contains(name, "/") {
		return nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil
	}
	return loc
}
