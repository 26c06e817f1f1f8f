package bounces_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
)

// FuzzParse feeds the DSN/ARF parser arbitrary messages: it must not panic
// or hang, and what it returns must be well formed.
func FuzzParse(f *testing.F) {
	f.Add(dsn("bounces+1-abcdefghijklm@example.org", "a@example.com", "failed", "5.1.1", "550 5.1.1 no such user", "<m1@example.org>"))
	f.Add(dsn("news@example.org", "a@example.com", "delayed", "4.4.7", "421 timeout", "<m2@example.org>"))
	f.Add(arf("bounces+2-abcdefghijklm@example.org", "b@example.com", "<m3@example.org>", true))
	f.Add(arf("bounces+3-abcdefghijklm@example.org", "b@example.com", "<m4@example.org>", false))
	f.Add(crlf("From: MAILER-DAEMON@x\nSubject: failure notice\n\n<a@b.example>: 550 5.1.1 no\nMessage-ID: <m5@x>\n"))
	f.Add(crlf("Content-Type: multipart/report; report-type=delivery-status; boundary=\"x\"\nContent-Transfer-Encoding: base64\n\n--x\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: quoted-printable\n\nFinal-Recipient: rfc822; a=40b\n\n--x--\n"))
	f.Add([]byte("Subject: hello\r\n\r\nnot a bounce"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rep, err := bounces.Parse(raw)
		if err != nil {
			if !errors.Is(err, bounces.ErrNotReport) || rep != nil {
				t.Fatalf("Parse: %v, %v", rep, err)
			}
			return
		}
		switch rep.Type {
		case bounces.TypeDSN, bounces.TypeFeedback, bounces.TypeNonStdDSN:
		default:
			t.Fatalf("type %q", rep.Type)
		}
		if rep.ID == "" {
			t.Fatal("a report without an id")
		}
		for _, tok := range rep.Tokens {
			if tok != strings.ToLower(tok) || !strings.Contains(tok, "-") {
				t.Fatalf("token %q", tok)
			}
		}
		for _, r := range rep.Recipients {
			switch k := bounces.Classify(r.Status, r.Diagnostic); k {
			case newsletter.BounceHard, newsletter.BounceSoft, newsletter.BouncePolicy:
			default:
				t.Fatalf("Classify(%q, %q) = %q", r.Status, r.Diagnostic, k)
			}
		}
	})
}

func TestClassify(t *testing.T) {
	for _, c := range []struct{ status, diag, want string }{
		{"5.1.1", "550 5.1.1 no such user", newsletter.BounceHard},
		{"5.0.0", "550 5.1.1 user unknown", newsletter.BounceHard},
		{"5.2.1", "550 5.2.1 disabled", newsletter.BounceHard},
		{"5.2.2", "552 5.2.2 mailbox full", newsletter.BounceSoft},
		{"4.4.1", "connection timed out", newsletter.BounceSoft},
		{"5.7.1", "554 5.7.1 spam", newsletter.BouncePolicy},
		{"5.1.8", "553 5.1.8 sender domain", newsletter.BouncePolicy},
		{"", "", newsletter.BounceSoft},
	} {
		if got := bounces.Classify(c.status, c.diag); got != c.want {
			t.Errorf("Classify(%q, %q) = %s, want %s", c.status, c.diag, got, c.want)
		}
	}
}
