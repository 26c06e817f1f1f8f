package web

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSeenTokens(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	var s seenTokens
	if err := s.use("a", now.Add(time.Minute), now); err != nil {
		t.Fatal(err)
	}
	if err := s.use("a", now.Add(time.Minute), now.Add(30*time.Second)); !errors.Is(err, errForged) {
		t.Errorf("a token used twice: %v", err)
	}
	// Forgotten (the event was not recorded): the retry is accepted.
	s.forget("a")
	if err := s.use("a", now.Add(time.Minute), now); err != nil {
		t.Errorf("after forget: %v", err)
	}
	// Bounded: when full, expired tokens make room; live ones do not.
	for i := len(s.expires); i < maxSeenTokens; i++ {
		if err := s.use(fmt.Sprint("t", i), now.Add(time.Minute), now); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.use("one-more", now.Add(time.Minute), now); !errors.Is(err, errBusy) {
		t.Errorf("full of live tokens: %v", err)
	}
	later := now.Add(2 * time.Minute)
	if err := s.use("one-more", later.Add(time.Minute), later); err != nil {
		t.Errorf("full of expired tokens: %v", err)
	}
	if len(s.expires) != 1 {
		t.Errorf("%d tokens held after the expired ones went", len(s.expires))
	}
}

func TestSNSHost(t *testing.T) {
	for _, h := range []string{"sns.us-east-1.amazonaws.com", "sns.eu-west-2.amazonaws.com", "sns.us-gov-west-1.amazonaws.com",
		"sns.ap-southeast-1.amazonaws.com", "sns.cn-north-1.amazonaws.com.cn"} {
		if !snsHost.MatchString(h) {
			t.Errorf("%s refused", h)
		}
	}
	for _, h := range []string{"sns.s3.amazonaws.com", "sns.amazonaws.com", "sns.us-east.amazonaws.com", "sns.x-east-1.amazonaws.com",
		"sns.us-east-1.s3.amazonaws.com", "sns.us-east-1.amazonaws.com.evil.example", "sns.-east-1.amazonaws.com", "sns.us-east-1.amazonaws.cn"} {
		if snsHost.MatchString(h) {
			t.Errorf("%s accepted", h)
		}
	}
}
