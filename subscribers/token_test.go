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

func TestTokens_Confirm(t *testing.T) {
	a, _ := subscribers.NewSigner(secretA)
	tok := a.Sign(subscribers.Token{Purpose: subscribers.PurposeConfirm, Subscriber: 1 << 61, List: "press.list", Nonce: "q5Yv0Jf3_k-2mJ6Zt0pN3w"})
	got, err := a.Verify(subscribers.PurposeConfirm, tok)
	if err != nil || got.Subscriber != 1<<61 || got.List != "press.list" || got.Nonce != "q5Yv0Jf3_k-2mJ6Zt0pN3w" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
	// A confirmation link of the old format (no nonce) could be used
	// again and again: refused.
	old := a.Sign(subscribers.Token{Purpose: subscribers.PurposeConfirm, Subscriber: 7, List: "newsletter"})
	if _, err := a.Verify(subscribers.PurposeConfirm, old); err == nil {
		t.Fatal("a confirmation token without a nonce verified")
	}
	// Other purposes keep their format, so links in old mails still work.
	unsub := a.Sign(subscribers.Token{Purpose: subscribers.PurposeUnsubscribe, Subscriber: 7, List: "a.b"})
	if got, err := a.Verify(subscribers.PurposeUnsubscribe, unsub); err != nil || got.List != "a.b" || got.Nonce != "" {
		t.Fatalf("Verify = %+v, %v", got, err)
	}
}

// FuzzVerify: whatever a link holds, Verify does not panic; what it accepts
// is exactly what was signed; and what is signed verifies as itself.
func FuzzVerify(f *testing.F) {
	a, _ := subscribers.NewSigner(secretA)
	for _, p := range []string{subscribers.PurposeUnsubscribe, subscribers.PurposePreferences, subscribers.PurposeConfirm} {
		f.Add(p, a.Sign(subscribers.Token{Purpose: p, Subscriber: 42, List: "newsletter", Nonce: "AAAAAAAAAAAAAAAAAAAAAA"}), int64(42), "newsletter", "AAAAAAAAAAAAAAAAAAAAAA")
	}
	f.Add(subscribers.PurposeConfirm, "MS5hYmNkZWZnaGkuYQ.xx", int64(1), "a.b", "abc.def")
	f.Fuzz(func(t *testing.T, purpose, tok string, id int64, list, nonce string) {
		if got, err := a.Verify(purpose, tok); err == nil {
			if got.Subscriber <= 0 || got.Purpose != purpose {
				t.Fatalf("Verify(%q) = %+v", tok, got)
			}
			if again := a.Sign(got); again != tok {
				t.Fatalf("Verify(%q) = %+v, which signs as %q", tok, got, again)
			}
		}
		in := subscribers.Token{Purpose: purpose, Subscriber: id, List: list, Nonce: nonce}
		if purpose != subscribers.PurposeConfirm {
			in.Nonce = ""
		}
		got, err := a.Verify(purpose, a.Sign(in))
		if err == nil && got != in {
			t.Fatalf("signed %+v, verified %+v", in, got)
		}
		if err != nil && id > 0 && !strings.Contains(list, ".") && (purpose != subscribers.PurposeConfirm || list != "" && len(nonce) >= 8 && len(nonce) <= 64 && strings.Trim(nonce, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == "") {
			t.Fatalf("signed %+v, refused: %v", in, err)
		}
	})
}
