package bounces_test

// Hostile tests: bounces, complaints and look-alikes as real mail software
// and hostile senders write them. Each test says what the product promises
// (README "Bounces and complaints") and checks the store afterwards.

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
)

func (e *env) events(t *testing.T) []*newsletter.BounceRecord {
	t.Helper()
	recs, err := e.db.BounceRecords(context.Background(), newsletter.BounceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// qmailBounce is a qmail-send text bounce: the remote host is named by its
// IP address before the remote server's reply.
func qmailBounce(to, rcpt, ip, reply, msgID string) []byte {
	return crlf(fmt.Sprintf(`
Return-Path: <>
From: MAILER-DAEMON@mail.sender.example
To: %s
Subject: failure notice
Message-ID: <qmail-%s@mail.sender.example>

Hi. This is the qmail-send program at mail.sender.example.
I'm afraid I wasn't able to deliver your message to the following addresses.
This is a permanent error; I've given up. Sorry it didn't work out.

<%s>:
%s does not like recipient.
Remote host said: %s
Giving up on %s.

--- Below this line is a copy of the message.

Return-Path: <%s>
Message-ID: %s
Subject: This week
`, to, ip, rcpt, ip, reply, ip, to, msgID))
}

// TestAttackQmailIPReadAsStatus: a qmail permanent bounce whose remote
// host's IP address starts with 4 or 5 must still be a hard bounce (the
// reply says 550 5.1.1).
func TestAttackQmailIPReadAsStatus(t *testing.T) {
	for _, ip := range []string{"198.51.100.7", "5.9.12.34", "4.31.198.44"} {
		t.Run(ip, func(t *testing.T) {
			e, _ := sentEnv(t, "gone@example.com")
			d := e.delivery(t, "gone@example.com")
			raw := qmailBounce(e.verp.Address(d.ID), "gone@example.com", ip, "550 5.1.1 <gone@example.com>... User unknown", d.MessageID)
			rep, err := bounces.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("parsed status %q", rep.Recipients[0].Status)
			e.process(t, raw)
			if got := e.states(t)["gone@example.com"]; got != "bounced/bounced" {
				evs := e.events(t)
				t.Errorf("qmail 550 5.1.1 via %s: %s (event kind %q status %q), want bounced/bounced", ip, got, evs[0].Kind, evs[0].Status)
			}
		})
	}
}

// TestAttackDSNStatusFromIP: a DSN with a generic Status 5.0.0 whose
// Diagnostic-Code names the remote host by IP before the 550 reply.
func TestAttackDSNStatusFromIP(t *testing.T) {
	e, _ := sentEnv(t, "gone@example.com")
	d := e.delivery(t, "gone@example.com")
	raw := dsn(e.verp.Address(d.ID), "gone@example.com", "failed", "5.0.0",
		"host mx.dead.example [4.2.2.1] said: 550 5.1.1 <gone@example.com>: Recipient address rejected: User unknown", d.MessageID)
	e.process(t, raw)
	if got := e.states(t)["gone@example.com"]; got != "bounced/bounced" {
		evs := e.events(t)
		t.Errorf("550 5.1.1 after an IP in Diagnostic-Code: %s (kind %q), want bounced/bounced", got, evs[0].Kind)
	}
}

// TestAttackAutoReplyIsNotABounce: an out-of-office reply mailed to the
// envelope sender (RFC 3834) quotes the article's subject. A subject with
// "rejected" in it must not make the auto-reply a bounce.
func TestAttackAutoReplyIsNotABounce(t *testing.T) {
	e, _ := sentEnv(t, "away@example.com")
	d := e.delivery(t, "away@example.com")
	raw := crlf(fmt.Sprintf(`
Return-Path: <>
From: Away Person <away@example.com>
To: %s
Subject: Automatic reply: Council rejected the budget
Auto-Submitted: auto-replied
X-Auto-Response-Suppress: All
Message-ID: <ooo-1@example.com>
In-Reply-To: %s
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday 5.1.26 and will reply then.
For urgent matters write to deputy@example.com.
`, e.verp.Address(d.ID), d.MessageID))
	o := e.process(t, raw)
	if got := e.states(t)["away@example.com"]; got != "sent/active" || len(e.events(t)) != 0 {
		evs := e.events(t)
		t.Errorf("an out-of-office reply: %s, %d events (kind %q status %q), outcome %+v; want sent/active and no event",
			got, len(evs), evs[0].Kind, evs[0].Status, o)
	}
	// A plain out-of-office subject is not a report.
	raw2 := bytes.Replace(raw, []byte("Automatic reply: Council rejected the budget"), []byte("Out of Office"), 1)
	raw2 = bytes.Replace(raw2, []byte("ooo-1@"), []byte("ooo-2@"), 1)
	if o := e.process(t, raw2); o.NotReports != 1 {
		t.Errorf("plain OOO: %+v", o)
	}
}

// TestAttackOriginalRecipient: without VERP, a DSN whose Final-Recipient
// is where an alias forwarded to, and whose Original-Recipient is the
// subscriber's address, names the delivery's recipient.
func TestAttackOriginalRecipient(t *testing.T) {
	e, _ := sentEnv(t, "alias@example.com")
	d := e.delivery(t, "alias@example.com")
	e.proc.VERP = nil
	raw := crlf(fmt.Sprintf(`
From: MAILER-DAEMON@mx.example.com (Mail Delivery System)
To: news@example.org
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-orig@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; real.person@mailbox.example
Original-Recipient: rfc822; alias@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 no such user

--B1
Content-Type: text/rfc822-headers

From: Example News <news@example.org>
To: alias@example.com
Message-ID: %s

--B1--
`, d.MessageID))
	o := e.process(t, raw)
	if got := e.states(t)["alias@example.com"]; got != "bounced/bounced" {
		t.Errorf("Original-Recipient names the subscriber: %s, outcome %+v; want bounced/bounced", got, o)
	}
}

// TestAttackMultiRecipientDSN: one DSN, three recipients: delivered,
// delayed, failed. Only the delivery's address counts; the failed one is
// a stranger.
func TestAttackMultiRecipientDSN(t *testing.T) {
	e, _ := sentEnv(t, "fine@example.com", "other@example.com")
	d := e.delivery(t, "fine@example.com")
	raw := crlf(fmt.Sprintf(`
From: MAILER-DAEMON@mx.example.com
To: %s
Subject: Delivery Status Notification (Failure)
Message-ID: <multi-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; fine@example.com
Action: delivered
Status: 2.0.0

Final-Recipient: rfc822; slow@example.com
Action: delayed
Status: 4.4.7

Final-Recipient: rfc822; stranger@elsewhere.example
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 unknown

--B1--
`, e.verp.Address(d.ID)))
	o := e.process(t, raw)
	got := e.states(t)
	t.Logf("outcome %+v, states %v", o, got)
	if got["fine@example.com"] != "sent/active" {
		t.Errorf("a DSN saying fine@ was delivered, with a stranger failing, marked fine@: %s", got["fine@example.com"])
	}
	if got["other@example.com"] != "sent/active" {
		t.Errorf("other@: %s", got["other@example.com"])
	}
}

// TestAttackTokenCaseAndSRS: an MTA that upper-cases the local part, and a
// forwarder that rewrites the return path with SRS, keep the token valid.
func TestAttackTokenCaseAndSRS(t *testing.T) {
	e, _ := sentEnv(t, "upper@example.com", "srs@example.com")
	du, ds := e.delivery(t, "upper@example.com"), e.delivery(t, "srs@example.com")
	up := strings.ToUpper(e.verp.Address(du.ID))
	srs := "SRS0=HhJk=TT=example.org=" + strings.Split(e.verp.Address(ds.ID), "@")[0] + "@forwarder.example"
	for _, raw := range [][]byte{
		dsn(up, "upper@example.com", "failed", "5.1.1", "550 5.1.1 no such user", "<x1@example.org>"),
		dsn(srs, "srs@example.com", "failed", "5.1.1", "550 5.1.1 no such user", "<x2@example.org>"),
	} {
		if o := e.process(t, raw); o.Bounced != 1 {
			t.Errorf("outcome %+v", o)
		}
	}
	got := e.states(t)
	if got["upper@example.com"] != "bounced/bounced" || got["srs@example.com"] != "bounced/bounced" {
		t.Errorf("states %v", got)
	}
}

// TestAttackOtherSubscribersToken: a DSN mailed to A's VERP address that
// names B as the failed recipient. Which subscriber is marked?
func TestAttackOtherSubscribersToken(t *testing.T) {
	e, _ := sentEnv(t, "a@example.com", "b@example.com")
	da, db := e.delivery(t, "a@example.com"), e.delivery(t, "b@example.com")
	raw := dsn(e.verp.Address(da.ID), "b@example.com", "failed", "5.1.1", "550 5.1.1 no such user", db.MessageID)
	o := e.process(t, raw)
	got := e.states(t)
	t.Logf("outcome %+v states %v", o, got)
	if got["b@example.com"] != "sent/active" {
		t.Errorf("b@ was marked by a report under a's token: %s", got["b@example.com"])
	}
	// The token decides (documented: a bounce names its delivery exactly,
	// even when forwarded): a@ is marked though the report names b@.
	if got["a@example.com"] != "bounced/bounced" {
		t.Logf("a@: %s", got["a@example.com"])
	}
}

// TestAttackForgedWritesNothing: forged tokens, with and without the real
// Message-ID; a report for a message never ours. No row in bounce_events.
func TestAttackForgedWritesNothing(t *testing.T) {
	e, _ := sentEnv(t, "victim@example.com")
	d := e.delivery(t, "victim@example.com")
	tok := e.verp.Token(d.ID)
	id, _, _ := strings.Cut(tok, "-")
	forged := []string{
		"bounces+" + id + "-" + strings.Repeat("a", 13) + "@example.org",
		"bounces+" + strings.ToUpper(id) + "-" + strings.Repeat("b", 13) + "@example.org",
		"bounces+0-" + tok[len(id)+1:] + "@example.org",
	}
	for _, addr := range forged {
		for _, raw := range [][]byte{
			dsn(addr, "victim@example.com", "failed", "5.1.1", "550 5.1.1 no such user", d.MessageID),
			arf(addr, "victim@example.com", d.MessageID, true),
			qmailBounce(addr, "victim@example.com", "198.51.100.1", "550 5.1.1 no", d.MessageID),
		} {
			o := e.process(t, raw)
			if o.Recorded != 0 {
				t.Errorf("%s: %+v", addr, o)
			}
		}
	}
	// Never ours: no token, unknown Message-ID.
	e.process(t, dsn("someone@else.example", "victim@example.com", "failed", "5.1.1", "550", "<never-ours@else.example>"))
	if n := len(e.events(t)); n != 0 {
		t.Errorf("%d rows in bounce_events after forged reports", n)
	}
	if got := e.states(t)["victim@example.com"]; got != "sent/active" {
		t.Errorf("victim: %s", got)
	}
}

// TestAttackAlteredTokenFallsBackToMessageID: a VERP address whose token
// was altered so that it no longer has the token's shape (one letter
// added to the MAC) is not seen as a token at all: the report then goes
// by Message-ID, and changes the delivery. README: "a bounce with a
// forged or altered token changes nothing".
func TestAttackAlteredTokenFallsBackToMessageID(t *testing.T) {
	e, _ := sentEnv(t, "victim@example.com")
	d := e.delivery(t, "victim@example.com")
	altered := "bounces+" + e.verp.Token(d.ID) + "x@example.org"
	o := e.process(t, arf(altered, "victim@example.com", d.MessageID, false))
	if n := len(e.events(t)); n != 0 || o.Recorded != 0 {
		t.Errorf("a complaint to the altered VERP address %s: outcome %+v, %d rows in bounce_events, victim now %s",
			altered, o, n, e.states(t)["victim@example.com"])
	}
}

// TestAttackBase64Prose: a prose bounce sent base64-encoded (as localized
// bounce generators do). Its 5.1.1 must be read.
func TestAttackBase64Prose(t *testing.T) {
	e, _ := sentEnv(t, "gone@example.com")
	d := e.delivery(t, "gone@example.com")
	text := fmt.Sprintf("This is the mail system at host mx.example.com.\r\n\r\nI'm sorry to have to inform you that your message could not\r\nbe delivered to one or more recipients.\r\n\r\n<gone@example.com>: host mx.example.com said: 550 5.1.1 User unknown\r\n\r\nMessage-ID: %s\r\n", d.MessageID)
	enc := base64.StdEncoding.EncodeToString([]byte(text))
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	raw := crlf(fmt.Sprintf(`
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: %s
Subject: Undelivered Mail Returned to Sender
Message-ID: <b64-1@mx.example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: base64

%s
`, e.verp.Address(d.ID), strings.Join(lines, "\n")))
	e.process(t, raw)
	if got := e.states(t)["gone@example.com"]; got != "bounced/bounced" {
		evs := e.events(t)
		k := ""
		if len(evs) > 0 {
			k = evs[0].Kind + " status " + evs[0].Status
		}
		t.Errorf("base64 prose 550 5.1.1: %s (event %s), want bounced/bounced", got, k)
	}
}

// TestAttackSameBounceTwoSources: the same DSN from a file then from IMAP
// (same bytes, same Message-ID) is recorded once; the same bounce from an
// SES notification as well as the DSN mail is "recorded once" (README).
func TestAttackSameBounceTwoSources(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "gone@example.com")
	d := e.delivery(t, "gone@example.com")
	raw := dsn(e.verp.Address(d.ID), "gone@example.com", "failed", "5.1.1", "550 5.1.1 no such user", d.MessageID)
	for _, src := range []string{"file", "imap", "maildir"} {
		if _, err := e.proc.ProcessMessage(ctx, src, raw); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.events(t)); n != 1 {
		t.Errorf("same DSN from three sources: %d events, want 1", n)
	}
	// The SES notification of the same bounce (the webhook's report).
	rep := &bounces.Report{Type: bounces.TypeDSN, ID: "ses:0100018c-feedback", Tokens: []string{e.verp.Token(d.ID)},
		Recipients: []bounces.Recipient{{Address: "gone@example.com", Action: bounces.ActionFailed, Status: "5.1.1", Diagnostic: "smtp; 550 5.1.1 no such user"}}}
	if _, err := e.proc.Process(ctx, "ses", rep); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events(t)); n != 1 {
		t.Errorf("the same bounce from IMAP and the SES webhook: %d events in bounce_events, README says recorded once", n)
	}
}

// TestAttackMboxVsIMAPNoMessageID: a bounce without a Message-ID (its id
// is a hash of the bytes) read from an mbox (LF) and then over IMAP (CRLF).
func TestAttackMboxVsIMAPNoMessageID(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "gone@example.com")
	d := e.delivery(t, "gone@example.com")
	raw := dsn(e.verp.Address(d.ID), "gone@example.com", "failed", "4.2.2", "452 4.2.2 mailbox full", d.MessageID)
	raw = bytes.Replace(raw, []byte("Message-ID: <dsn-gone-4.2.2@mx.example.com>\r\n"), nil, 1)
	lf := bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if _, err := e.proc.ProcessMessage(ctx, "mbox", lf); err != nil {
		t.Fatal(err)
	}
	if _, err := e.proc.ProcessMessage(ctx, "imap", raw); err != nil {
		t.Fatal(err)
	}
	if n := len(e.events(t)); n != 1 {
		t.Errorf("one bounce without Message-ID read from an mbox and from IMAP: %d events, want 1", n)
	}
}

// TestAttackForgetErasesBounceEvents: after `subscribers remove --forget`
// the address must not remain in the bounce log; a complaint arriving later
// must not store it again.
func TestAttackForgetErasesBounceEvents(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "erase.me@example.com", "stay@example.com")
	d := e.delivery(t, "erase.me@example.com")
	// A policy bounce first (the address stays subscribed).
	e.process(t, dsn(e.verp.Address(d.ID), "erase.me@example.com", "failed", "5.7.1", "550 5.7.1 <erase.me@example.com> blocked by policy", d.MessageID))
	if err := e.db.ForgetSubscriber(ctx, "erase.me@example.com"); err != nil {
		t.Fatal(err)
	}
	// A complaint after the erasure.
	e.process(t, arf(e.verp.Address(d.ID), "erase.me@example.com", d.MessageID, true))
	for _, r := range e.events(t) {
		for name, v := range map[string]string{"email": r.Email, "recipient": r.Recipient, "diagnostic": r.Diagnostic} {
			if strings.Contains(strings.ToLower(v), "erase.me@example.com") {
				t.Errorf("bounce_events.%s of a %s event still holds the erased address: %q", name, r.Kind, v)
			}
		}
	}
	if _, err := e.db.SubscriberByEmail(ctx, "erase.me@example.com"); err == nil {
		t.Errorf("the complaint brought the erased subscriber back")
	}
}

// TestAttackComplaintAfterUnsubscribe: README: a report about an address
// already gone (removed, unsubscribed, bounced) is recorded and changes
// nothing.
func TestAttackComplaintAfterUnsubscribe(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "left@example.com", "hard@example.com")
	d := e.delivery(t, "left@example.com")
	if _, err := e.db.SetSubscriberStatus(ctx, "left@example.com", newsletter.StatusUnsubscribed); err != nil {
		t.Fatal(err)
	}
	e.process(t, arf(e.verp.Address(d.ID), "left@example.com", d.MessageID, false))
	s, _ := e.db.SubscriberByEmail(ctx, "left@example.com")
	t.Logf("unsubscribed then complaint: subscriber %s", s.Status)
	if s.Status != newsletter.StatusUnsubscribed {
		t.Logf("NOTE: a complaint moves an unsubscribed address to %s (README: changes nothing)", s.Status)
	}
}

// TestAttackMalformedMIME: missing boundary, a DSN nested in a forwarded
// message, a truncated huge report, mixed charsets.
func TestAttackMalformedMIME(t *testing.T) {
	e, _ := sentEnv(t, "x@example.com")
	d := e.delivery(t, "x@example.com")
	good := dsn(e.verp.Address(d.ID), "x@example.com", "failed", "5.1.1", "550 5.1.1 no such user", d.MessageID)

	// 1. Missing boundary parameter.
	noB := bytes.Replace(good, []byte(`; boundary="B1"`), nil, 1)
	o := e.process(t, noB)
	t.Logf("missing boundary: %+v", o)

	// 2. A person forwards a bounce they received, as an attachment, to the
	// VERP address (reply to Return-Path). The inner DSN is not ours to act on.
	fwd := crlf(fmt.Sprintf(`
From: x@example.com
To: %s
Subject: Fwd: Undelivered Mail Returned to Sender
Message-ID: <fwd-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="F"

--F
Content-Type: text/plain

Look at this.
--F
Content-Type: message/rfc822

%s
--F--
`, e.verp.Address(d.ID), strings.ReplaceAll(string(good), "\r\n", "\n")))
	o = e.process(t, fwd)
	t.Logf("forwarded DSN as attachment: %+v", o)
	if got := e.states(t)["x@example.com"]; got != "sent/active" {
		t.Logf("NOTE: a forwarded bounce (message/rfc822 under a Fwd: subject) was acted on: %s", got)
	}

	// 3. A multipart/report nested inside multipart/mixed (not as
	// message/rfc822), from a person, with a 5.1.1 for the stranger.
	nested := crlf(fmt.Sprintf(`
From: x@example.com
To: %s
Subject: Re: This week
Message-ID: <nested-1@example.com>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="F"

--F
Content-Type: text/plain

Hello.
--F
Content-Type: multipart/report; report-type=delivery-status; boundary="R"

--R
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; x@example.com
Action: failed
Status: 5.1.1

--R--
--F--
`, e.verp.Address(d.ID)))
	o = e.process(t, nested)
	t.Logf("a person's reply with a nested multipart/report: %+v, state %s", o, e.states(t)["x@example.com"])

	// 4. Huge: 5 MB of text before the delivery-status part.
	big := bytes.Replace(good, []byte("Your message could not be delivered.\r\n"),
		append(bytes.Repeat([]byte(strings.Repeat("x", 998)+"\r\n"), 5<<10), []byte("Your message could not be delivered.\r\n")...), 1)
	big = bytes.Replace(big, []byte("<dsn-x-5.1.1@"), []byte("<dsn-big@"), 1)
	o, err := e.proc.ProcessMessage(context.Background(), "file", big)
	t.Logf("a %d-byte DSN: %+v, %v", len(big), o, err)
	if o.Delayed == 1 {
		t.Logf("NOTE: a truncated DSN with no recipient left is counted as Delayed")
	}
}
