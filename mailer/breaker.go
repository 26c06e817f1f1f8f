package mailer

import (
	"strconv"
	"sync"

	"github.com/example/newsletter"
)

// Thresholds of the circuit breaker: the same permanent reply about the
// sender or the message this many times in a row, or for more than half
// of a run's first results, stops the run.
const (
	breakerInRow  = 10
	breakerWindow = 50
)

// breaker stops a run whose failures are the sender's, not the readers': a
// relay that refuses the sender's domain would otherwise fail every
// delivery of the list. The deliveries it stopped on go back to pending.
type breaker struct {
	mu      sync.Mutex
	key     string                      // the reply of the current streak
	streak  []newsletter.DeliveryUpdate // its deliveries
	early   []newsletter.DeliveryUpdate // sender failures among the first results
	all     []newsletter.DeliveryUpdate // every sender failure of the run
	sameAll bool                        // all of them had one reply
	results int
	others  int // results that were not a sender failure
	reply   string
	from    string // the envelope sender refused
	tripped bool
}

// cause returns the envelope sender refused and the last reply, read under
// the lock: other workers may be counting failures at the same time.
func (b *breaker) cause() (from, reply string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.from, b.reply
}

// success ends a streak.
func (b *breaker) success() {
	b.mu.Lock()
	b.key, b.streak = "", nil
	b.results++
	b.others++
	b.mu.Unlock()
}

// failure counts a sender-side failure. When the breaker trips it returns
// the deliveries to put back to pending.
func (b *breaker) failure(se *SendError, from string, up newsletter.DeliveryUpdate) []newsletter.DeliveryUpdate {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.from = from
	if b.tripped {
		// A message in flight when the breaker tripped.
		return []newsletter.DeliveryUpdate{up}
	}
	key := strconv.Itoa(se.Code) + " " + se.Enhanced
	if se.Code == 0 {
		key = se.Text
	}
	if len(b.all) == 0 {
		b.sameAll = true
	} else if key != b.key || len(b.streak) == 0 {
		b.sameAll = false
	}
	if key != b.key {
		b.key, b.streak = key, nil
	}
	b.streak = append(b.streak, up)
	b.all = append(b.all, up)
	b.reply = se.Error()
	b.results++
	if b.results <= breakerWindow {
		b.early = append(b.early, up)
	}
	switch {
	case len(b.streak) >= breakerInRow:
		b.tripped = true
		return b.streak
	case len(b.early) > breakerWindow/2:
		b.tripped = true
		return b.early
	}
	return nil
}

// final trips the breaker at the end of a run in which every result was
// the same sender-side failure: on a list too small for the other rules,
// the readers are not failed for the sender's fault either.
func (b *breaker) final() []newsletter.DeliveryUpdate {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.tripped && b.others == 0 && b.sameAll && len(b.all) > 0 {
		b.tripped = true
		return b.all
	}
	return nil
}
