package web

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxSeenTokens bounds the tokens a seenTokens remembers. Only the
// provider can make a token that verifies, so a full set means a flood
// of real events; they are refused for now and the provider retries.
const maxSeenTokens = 1 << 16

// errReplayed: a signature token seen before, on this body or another.
var errReplayed = fmt.Errorf("%w: the token was used before", errForged)

// errBusy: too many webhook tokens are remembered to take another now.
var errBusy = errors.New("too many recent webhook events; try again later")

// seenTokens remembers the signature tokens used within the replay
// window, so that a captured signature cannot be put on another body.
// The zero value is ready to use.
type seenTokens struct {
	mu      sync.Mutex
	expires map[string]time.Time // token → when its signature's timestamp is too old anyway
}

// use records token, whose signature stays valid until expires, and
// reports an error if it was used before or too many tokens are held.
func (s *seenTokens) use(token string, expires, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.expires == nil {
		s.expires = map[string]time.Time{}
	}
	if at, ok := s.expires[token]; ok && now.Before(at) {
		return errReplayed
	}
	if len(s.expires) >= maxSeenTokens {
		for t, at := range s.expires {
			if !now.Before(at) {
				delete(s.expires, t)
			}
		}
		if len(s.expires) >= maxSeenTokens {
			return errBusy
		}
	}
	s.expires[token] = expires
	return nil
}

// forget drops token, so that the provider's retry of an event that could
// not be recorded is accepted.
func (s *seenTokens) forget(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.expires, token)
}
