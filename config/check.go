package config

import (
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// knownKeys lists every setting the file may hold ("transport.retries"),
// read from the toml tags of Config.
func knownKeys() []string {
	var keys []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("toml")
			if tag == "" || tag == "-" {
				continue
			}
			key := prefix + tag
			keys = append(keys, key)
			ft := f.Type
			if ft.Kind() == reflect.Slice {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}) {
				walk(ft, key+".")
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	sort.Strings(keys)
	return keys
}

// suggest returns the known setting nearest to key, "" when none is close
// enough to be what was meant.
func suggest(key string) string {
	best, bestDist := "", 3
	for _, k := range knownKeys() {
		if d := distance(strings.ToLower(key), k); d < bestDist {
			best, bestDist = k, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// unknownSetting is the error for keys the file has and Config does not.
func unknownSetting(path string, keys []string) error {
	var parts []string
	for _, k := range keys {
		if s := suggest(k); s != "" {
			parts = append(parts, k+" (did you mean "+s+"?)")
		} else {
			parts = append(parts, k)
		}
	}
	return newsletter.Errorf(newsletter.EINVALID, "config %s: unknown setting %s", path, strings.Join(parts, ", "))
}

// checkRanges refuses values no one means: a negative retry count, a
// hundred thousand connections, a zero timeout.
func (c *Config) checkRanges() error {
	t := c.Transport
	ints := []struct {
		name     string
		v        int
		min, max int
	}{
		{"transport.concurrency", t.Concurrency, 0, 64},
		{"transport.retries", t.Retries, 0, 20},
	}
	for _, r := range ints {
		if r.v < r.min || r.v > r.max {
			return newsletter.Errorf(newsletter.EINVALID, "config %s: %s = %d is out of range: use %d to %d", c.path, r.name, r.v, r.min, r.max)
		}
	}
	if t.Rate < 0 || t.Rate > 10000 {
		return newsletter.Errorf(newsletter.EINVALID, "config %s: transport.rate = %g is out of range: use 0 (unlimited) to 10000 messages per second", c.path, t.Rate)
	}
	durations := []struct {
		name     string
		v        time.Duration
		min, max time.Duration
	}{
		{"transport.retry_backoff", t.RetryBackoff.Duration, time.Millisecond, time.Hour},
		{"transport.queue_lifetime", t.QueueLifetime.Duration, time.Minute, 30 * 24 * time.Hour},
		{"transport.connect_timeout", t.ConnectTimeout.Duration, time.Second, 10 * time.Minute},
		{"transport.command_timeout", t.CommandTimeout.Duration, time.Second, 10 * time.Minute},
		{"transport.data_timeout", t.DataTimeout.Duration, time.Second, 30 * time.Minute},
		{"transport.stop_grace", t.StopGrace.Duration, 10 * time.Millisecond, 10 * time.Minute},
	}
	for _, r := range durations {
		if r.v != 0 && (r.v < r.min || r.v > r.max) {
			return newsletter.Errorf(newsletter.EINVALID, "config %s: %s = %s is out of range: use %s to %s (or leave it out for the default)", c.path, r.name, r.v, r.min, r.max)
		}
	}
	return nil
}
