package bounces_test

import (
	"bytes"
	"context"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// sentEnv is an env whose readers have each been sent one digest through
// an in-process server; it returns the server too.
func sentEnv(t *testing.T, readers ...string) (*env, *smtptest.Server) {
	t.Helper()
	e := newEnv(t, "")
	e.addReaders(t, readers...)
	e.addArticle(t)
	srv := smtptest.Start(t)
	tr, err := mailer.ParseTransport(srv.URL(), "")
	if err != nil {
		t.Fatal(err)
	}
	e.digest(t, tr)
	return e, srv
}

// dsn writes an RFC 3464 report to the VERP address of a delivery.
func dsn(to, rcpt, action, status, diag, msgID string) []byte {
	return crlf(fmt.Sprintf(`
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-%s-%s@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain

Your message could not be delivered.

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; %s
Original-Recipient: rfc822;%s
Action: %s
Status: %s
Diagnostic-Code: smtp; %s

--B1
Content-Type: text/rfc822-headers

From: Example News <news@example.org>
To: %s
Subject: This week
Message-ID: %s

--B1--
`, to, strings.Split(rcpt, "@")[0], status, rcpt, rcpt, action, status, diag, rcpt, msgID))
}

// arf writes an RFC 5965 feedback report about a delivery; with full, the
// original message is attached, else only its headers.
func arf(origFrom, rcpt, msgID string, full bool) []byte {
	part := "Content-Type: text/rfc822-headers\n"
	body := ""
	if full {
		part = "Content-Type: message/rfc822\nContent-Disposition: inline\n"
		body = "\nHello reader.\n"
	}
	return crlf(fmt.Sprintf(`
From: <feedback@fbl.example.net>
To: <abuse@example.org>
Subject: FW: This week
Message-ID: <arf-%s-%t@fbl.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="part1"

--part1
Content-Type: text/plain; charset="US-ASCII"

This is an email abuse report for an email message received from IP
192.0.2.1 on Thu, 8 Mar 2026 14:00:00 EDT.

--part1
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <%s>
Original-Rcpt-To: <%s>
Arrival-Date: Thu, 8 Mar 2026 14:00:00 EDT
Reported-Domain: example.org
Source-IP: 192.0.2.1

--part1
%s
Return-Path: <%s>
From: Example News <news@example.org>
To: <%s>
Subject: This week
Message-ID: %s
%s
--part1--
`, strings.Split(rcpt, "@")[0], full, origFrom, rcpt, part, origFrom, rcpt, msgID, body))
}

func (e *env) process(t *testing.T, raw []byte) bounces.Outcome {
	t.Helper()
	o, err := e.proc.ProcessMessage(context.Background(), "file", raw)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestComplaints(t *testing.T) {
	e, _ := sentEnv(t, "angry@example.com", "cross@example.com", "calm@example.com")
	for _, full := range []bool{true, false} {
		rcpt := "angry@example.com"
		if !full {
			rcpt = "cross@example.com"
		}
		d := e.delivery(t, rcpt)
		raw := arf(e.verp.Address(d.ID), rcpt, d.MessageID, full)
		rep, err := bounces.Parse(raw)
		if err != nil || rep.Type != bounces.TypeFeedback || rep.FeedbackType != "abuse" {
			t.Fatalf("full=%v: %+v, %v", full, rep, err)
		}
		if o := e.process(t, raw); o.Complained != 1 || o.Recorded != 1 {
			t.Errorf("full=%v: %+v, want 1 complained", full, o)
		}
		if o := e.process(t, raw); o.Recorded != 0 || o.Duplicates != 1 {
			t.Errorf("full=%v, again: %+v, want a duplicate", full, o)
		}
	}
	got := e.states(t)
	for email, want := range map[string]string{"angry@example.com": "complained/complained", "cross@example.com": "complained/complained", "calm@example.com": "sent/active"} {
		if got[email] != want {
			t.Errorf("%s: %s, want %s", email, got[email], want)
		}
	}

	// An import never makes a complained reader active again.
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		yield(&newsletter.SubscriberInput{Email: "angry@example.com", Status: newsletter.StatusActive}, nil)
	}
	if _, err := e.db.ImportSubscribers(context.Background(), iter.Seq2[*newsletter.SubscriberInput, error](rows), newsletter.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	if s, _ := e.db.SubscriberByEmail(context.Background(), "angry@example.com"); s.Status != newsletter.StatusComplained {
		t.Errorf("after an import: %s, want complained", s.Status)
	}
	// … and the next digest does not mail them.
	e.addArticleSlug(t, "week-two")
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	e.digest(t, tr)
	if n := srv.Count("angry@example.com") + srv.Count("cross@example.com"); n != 0 {
		t.Errorf("complained readers got %d messages", n)
	}
	if n := srv.Count("calm@example.com"); n != 1 {
		t.Errorf("calm@ got %d messages, want 1", n)
	}
}

func TestForgedTokenChangesNothing(t *testing.T) {
	e, _ := sentEnv(t, "victim@example.com")
	d := e.delivery(t, "victim@example.com")
	good := e.verp.Token(d.ID)
	forgeries := []string{
		strings.Replace(e.verp.Address(d.ID), good, good[:len(good)-1]+flip(good[len(good)-1]), 1), // one MAC letter changed
		strings.Replace(e.verp.Address(d.ID), good, e.verp.Token(d.ID + 1)[:len(good)-13]+good[len(good)-13:], 1),
		"bounces+" + strings.Split(good, "-")[0] + "-aaaaaaaaaaaaa@example.org",
	}
	for _, addr := range forgeries {
		// A forged DSN without the original's Message-ID, and a forged ARF.
		for _, raw := range [][]byte{dsn(addr, "victim@example.com", "failed", "5.1.1", "550 5.1.1 no such user", "<made-up@example.org>"),
			arf(addr, "victim@example.com", "<made-up@example.org>", false)} {
			o := e.process(t, raw)
			if o.Forged != 1 || o.Recorded != 0 {
				t.Errorf("%s: %+v, want forged and nothing recorded", addr, o)
			}
		}
	}
	if got := e.states(t)["victim@example.com"]; got != "sent/active" {
		t.Errorf("victim: %s", got)
	}
	if recs, _ := e.db.BounceRecords(context.Background(), newsletter.BounceFilter{}); len(recs) != 0 {
		t.Errorf("%d events recorded from forgeries", len(recs))
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestBounceRules(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "dead@example.com", "full@example.com", "slow@example.com", "policy@example.com", "left@example.com", "removed@example.com")
	to := func(email string) (string, string) {
		d := e.delivery(t, email)
		return e.verp.Address(d.ID), d.MessageID
	}

	t.Run("DelayedIsNotABounce", func(t *testing.T) {
		addr, mid := to("slow@example.com")
		o := e.process(t, dsn(addr, "slow@example.com", "delayed", "4.4.7", "421 4.4.7 timed out", mid))
		if o.Delayed != 1 || o.Recorded != 0 {
			t.Errorf("%+v", o)
		}
		if got := e.states(t)["slow@example.com"]; got != "sent/active" {
			t.Errorf("slow: %s", got)
		}
	})
	t.Run("HardBounceAtOnce", func(t *testing.T) {
		addr, mid := to("dead@example.com")
		o := e.process(t, dsn(addr, "dead@example.com", "failed", "5.1.1", "550 5.1.1 <dead@example.com>: user unknown", mid))
		if o.Bounced != 1 {
			t.Errorf("%+v", o)
		}
		if got := e.states(t)["dead@example.com"]; got != "bounced/bounced" {
			t.Errorf("dead: %s", got)
		}
		recs, _ := e.db.BounceRecords(ctx, newsletter.BounceFilter{})
		r := recs[len(recs)-1]
		if r.Kind != newsletter.BounceHard || r.Status != "5.1.1" || !strings.Contains(r.Diagnostic, "user unknown") || r.Source != "file" || r.At.IsZero() {
			t.Errorf("event %+v", r)
		}
	})
	t.Run("PolicyBounceLeavesTheAddress", func(t *testing.T) {
		addr, mid := to("policy@example.com")
		e.process(t, dsn(addr, "policy@example.com", "failed", "5.7.1", "554 5.7.1 message content rejected", mid))
		if got := e.states(t)["policy@example.com"]; got != "bounced/active" {
			t.Errorf("policy: %s, want the delivery bounced and the address active", got)
		}
	})
	t.Run("GoneAddressRecordedChangesNothing", func(t *testing.T) {
		addr, mid := to("left@example.com")
		if _, err := e.db.SetSubscriberStatus(ctx, "left@example.com", newsletter.StatusUnsubscribed); err != nil {
			t.Fatal(err)
		}
		o := e.process(t, dsn(addr, "left@example.com", "failed", "5.1.1", "550 5.1.1 no such user", mid))
		if o.Recorded != 1 || o.Bounced != 0 {
			t.Errorf("%+v", o)
		}
		if got := e.states(t)["left@example.com"]; got != "sent/unsubscribed" {
			t.Errorf("left: %s", got)
		}
		addr, mid = to("removed@example.com")
		if _, err := e.db.RemoveSubscriber(ctx, "removed@example.com"); err != nil {
			t.Fatal(err)
		}
		o = e.process(t, dsn(addr, "removed@example.com", "failed", "5.1.1", "550 5.1.1 no such user", mid))
		if o.Recorded != 1 {
			t.Errorf("%+v", o)
		}
		if got := e.states(t)["removed@example.com"]; got != "sent/removed" {
			t.Errorf("removed: %s", got)
		}
	})
	t.Run("SoftBouncesOnThreeCampaigns", func(t *testing.T) {
		soft := func(n int) bounces.Outcome {
			d := e.delivery(t, "full@example.com")
			return e.process(t, dsn(e.verp.Address(d.ID), "full@example.com", "failed", "5.2.2", "552 5.2.2 mailbox full", d.MessageID))
		}
		want := []string{"bounced/active", "bounced/active", "bounced/bounced"}
		for i := range 3 {
			if i > 0 {
				e.addArticleSlug(t, fmt.Sprintf("more-%d", i))
				srv := smtptest.Start(t)
				tr, _ := mailer.ParseTransport(srv.URL(), "")
				e.digest(t, tr)
			}
			o := soft(i)
			if o.Recorded != 1 {
				t.Errorf("campaign %d: %+v", i+1, o)
			}
			// The same report again counts once.
			if o := soft(i); o.Duplicates != 1 {
				t.Errorf("campaign %d again: %+v", i+1, o)
			}
			states := strings.Split(e.states(t)["full@example.com"], ",")
			if got := states[len(states)-1]; got != want[i] {
				t.Errorf("after %d soft bounces: %s, want %s", i+1, got, want[i])
			}
		}
	})
}

func (e *env) addArticleSlug(tb testing.TB, slug string) {
	tb.Helper()
	a := &newsletter.Article{Slug: slug, Title: "Title " + slug, Date: testNow.AddDate(0, 0, -1).Truncate(24 * 60 * 60 * 1e9), Body: "Body.", Summary: "About."}
	a.ComputeHash()
	if _, err := e.db.UpsertArticles(context.Background(), []*newsletter.Article{a}); err != nil {
		tb.Fatal(err)
	}
}

// TestNonStandardBounce: a bounce in prose is matched by the original
// Message-ID it quotes, only when it names the delivery's address.
func TestNonStandardBounce(t *testing.T) {
	e, _ := sentEnv(t, "old@example.com", "other@example.com")
	d := e.delivery(t, "old@example.com")
	prose := func(rcpt string) []byte {
		return crlf(fmt.Sprintf(`
From: Mail Delivery Subsystem <MAILER-DAEMON@legacy.example.com>
To: news@example.org
Subject: failure notice

Hi. This is the mail transport at legacy.example.com.
I could not deliver your message to the following address:

<%s>:
Remote host said: 550 5.1.1 mailbox unavailable

--- Below this line is a copy of the message.

Message-ID: %s
Subject: This week
`, rcpt, d.MessageID))
	}
	// It names another address than the delivery's: not ours to change.
	o := e.process(t, prose("stranger@example.net"))
	_ = o
	if got := e.states(t)["old@example.com"]; got != "sent/active" {
		t.Errorf("a bounce naming another address changed old@: %s", got)
	}
	o = e.process(t, prose("old@example.com"))
	if o.Bounced != 1 {
		t.Errorf("%+v", o)
	}
	if got := e.states(t)["old@example.com"]; got != "bounced/bounced" {
		t.Errorf("old: %s", got)
	}
}

// TestReadSources: a message file, an mbox and stdin go through the same
// processing.
func TestReadSources(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "a@example.com", "b@example.com", "c@example.com")
	msg := func(email string) []byte {
		d := e.delivery(t, email)
		return dsn(e.verp.Address(d.ID), email, "failed", "5.1.1", "550 5.1.1 no such user", d.MessageID)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "one.eml")
	os.WriteFile(file, msg("a@example.com"), 0o600)
	var mbox bytes.Buffer
	for _, em := range []string{"b@example.com", "a@example.com"} {
		mbox.WriteString("From MAILER-DAEMON Mon Nov 30 09:05:00 2026\n")
		mbox.Write(bytes.ReplaceAll(msg(em), []byte("\r\n"), []byte("\n")))
		mbox.WriteString("\n")
	}
	mboxFile := filepath.Join(dir, "bounces.mbox")
	os.WriteFile(mboxFile, mbox.Bytes(), 0o600)

	if o, err := e.proc.Read(ctx, file, nil); err != nil || o.Bounced != 1 {
		t.Errorf("file: %+v, %v", o, err)
	}
	if o, err := e.proc.Read(ctx, mboxFile, nil); err != nil || o.Messages != 2 || o.Bounced != 1 || o.Duplicates != 1 {
		t.Errorf("mbox: %+v, %v", o, err)
	}
	if o, err := e.proc.Read(ctx, "-", bytes.NewReader(msg("c@example.com"))); err != nil || o.Bounced != 1 {
		t.Errorf("stdin: %+v, %v", o, err)
	}
	for em, st := range e.states(t) {
		if st != "bounced/bounced" {
			t.Errorf("%s: %s", em, st)
		}
	}
	if _, err := e.proc.Read(ctx, filepath.Join(dir, "missing"), nil); err == nil || !strings.Contains(err.Error(), "maildir") {
		t.Errorf("a missing path: %v", err)
	}
}
