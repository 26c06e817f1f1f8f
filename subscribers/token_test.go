package subscribers_test

import (
	"strings"
	"testing"

	"github.com/example/newsletter/subscribers"
)

const (
	secretA = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
	secretB = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
)

func TestTokens(t *testing.T) {
	a, err := subscribers.NewSigner(secretA)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := subscribers.NewSigner(secretB)
	tok := a.Sign(subscribers.Token{Purpose: subscribers.PurposeUnsubscribe, Subscriber: 42, List: "newsletter"})
	if strings.ContainsAny(tok, "+/=?&# ") {
		t.Errorf("token %q is not URL-safe", tok)
	}

	t.Run("Valid", func(t *testing.T) {
		got, err := a.Verify(subscribers.PurposeUnsubscribe, tok)
		if err != nil || got.Subscriber != 42 || got.List != "newsletter" {
			t.Fatalf("Verify = %+v, %v", got, err)
		}
	})
	t.Run("ErrWrongPurpose", func(t *testing.T) {
		if _, err := a.Verify(subscribers.PurposePreferences, tok); err != subscribers.ErrBadToken {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrWrongSubscriber", func(t *testing.T) {
		other := a.Sign(subscribers.Token{Purpose: subscribers.PurposeUnsubscribe, Subscriber: 43, List: "newsletter"})
		// The payload of 43 with the MAC of 42.
		forged := strings.SplitN(other, ".", 2)[0] + "." + strings.SplitN(tok, ".", 2)[1]
		if _, err := a.Verify(subscribers.PurposeUnsubscribe, forged); err != subscribers.ErrBadToken {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrAlteredByte", func(t *testing.T) {
		for i := range tok {
			c := byte('A')
			if tok[i] == 'A' {
				c = 'B'
			}
			altered := tok[:i] + string(c) + tok[i+1:]
			if _, err := a.Verify(subscribers.PurposeUnsubscribe, altered); err == nil {
				t.Fatalf("token altered at byte %d verified: %q", i, altered)
			}
		}
	})
	t.Run("ErrOtherSecret", func(t *testing.T) {
		if _, err := b.Verify(subscribers.PurposeUnsubscribe, tok); err != subscribers.ErrBadToken {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("ErrGarbage", func(t *testing.T) {
		for _, s := range []string{"", ".", "abc", "a.b.c", "!!!.???"} {
			if _, err := a.Verify(subscribers.PurposeUnsubscribe, s); err == nil {
				t.Fatalf("%q verified", s)
			}
		}
	})
	t.Run("ErrShortSecret", func(t *testing.T) {
		if _, err := subscribers.NewSigner("abcd"); err == nil {
			t.Fatal("a 2-byte secret was accepted")
		}
	})
}
