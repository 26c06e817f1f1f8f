package mailer

import (
	"strconv"
	"sync"

	"github.com/example/newsletter"
)

// Thresholds of the circuit breaker: the same permanent reply about the
// sender or the message this many times in a row (recipient failures in
// between neither count nor break the run), or for more than half of the
// last breakerWindow results, stops the run.
const (
	breakerInRow  = 10
	breakerWindow = 50
)

// breaker stops a run whose failures are the sender's, not the readers': a
// relay that refuses the sender's domain, or a DMARC policy that refuses
// its messages, would otherwise fail every delivery of the list. When it
// trips, every delivery that failed with that reply in the run goes back
// to pending, so that the same command, after the fix, sends them.
type breaker struct {
	mu       sync.Mutex
	key      string // the reply of the current streak
	streak   int
	window   [breakerWindow]string // the last results: a sender reply's key, or ""
	results  int
	byKey    map[string][]newsletter.DeliveryUpdate // sender failures of the run, by reply
	replies  map[string]string                      // a reply's text, by key
	succeded int
	from     string // the envelope sender refused
	tripped  string // the key that tripped the breaker, "" while closed
}

// push records a result in the window.
func (b *breaker) push(key string) {
	b.window[b.results%breakerWindow] = key
	b.results++
}

// success ends a streak.
func (b *breaker) success() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.key, b.streak = "", 0
	b.succeded++
	b.push("")
}

// recipientFailure is a failure that is the reader's: it does not break a
// streak of the sender's failures, and counts as not the sender's in the
// window.
func (b *breaker) recipientFailure() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.push("")
}

// failure counts a sender-side failure. When the breaker trips (or has
// tripped) it returns the deliveries to put back to pending.
func (b *breaker) failure(se *SendError, from string, up newsletter.DeliveryUpdate) []newsletter.DeliveryUpdate {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.from = from
	if b.tripped != "" {
		// A message in flight when the breaker tripped.
		return []newsletter.DeliveryUpdate{up}
	}
	key := strconv.Itoa(se.Code) + " " + se.Enhanced
	if se.Code == 0 {
		key = se.Text
	}
	if b.byKey == nil {
		b.byKey, b.replies = map[string][]newsletter.DeliveryUpdate{}, map[string]string{}
	}
	b.byKey[key] = append(b.byKey[key], up)
	b.replies[key] = se.Error()
	if key != b.key {
		b.key, b.streak = key, 0
	}
	b.streak++
	b.push(key)
	inWindow := 0
	for _, k := range b.window[:min(b.results, breakerWindow)] {
		if k == key {
			inWindow++
		}
	}
	if b.streak >= breakerInRow || inWindow > breakerWindow/2 {
		b.tripped = key
		return b.byKey[key]
	}
	return nil
}

// final trips the breaker at the end of a run in which nothing was sent and
// every sender-side failure had one reply: on a list too small for the
// other rules, the readers are not failed for the sender's fault either.
func (b *breaker) final() []newsletter.DeliveryUpdate {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.tripped != "" || b.succeded > 0 || len(b.byKey) != 1 {
		return nil
	}
	for key, ups := range b.byKey {
		b.tripped = key
		return ups
	}
	return nil
}

// reply is the text of the reply that tripped the breaker.
func (b *breaker) reply() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.replies[b.tripped]
}

// sender is the envelope sender that was refused.
func (b *breaker) sender() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.from
}
