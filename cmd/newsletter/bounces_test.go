package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/mtatest"
	"github.com/example/newsletter/internal/smtptest"
)

// deliveryStates returns each delivery's status by address, campaign 1.
func deliveryStates(t *testing.T, c *cli) map[string]string {
	t.Helper()
	var ds []struct{ Email, Status string }
	if err := json.Unmarshal([]byte(c.ok("--format", "json", "deliveries", "--campaign", "1")), &ds); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		out[d.Email] = d.Status
	}
	return out
}

// TestBounces_PostfixAndDovecot is the acceptance test of bounces through
// the CLI: a digest through a real Postfix whose next hop refuses two
// readers with 550 5.1.1 and defers one; Postfix mails its DSNs to the VERP
// addresses, into a maildir. `bounces read MAILDIR` bounces exactly the
// refused readers, again changes nothing; `campaigns` shows the counts and
// rates, the next digest warns; `bounces fetch` from Dovecot serving the
// same maildir does the same on a copy of the database.
func TestBounces_PostfixAndDovecot(t *testing.T) {
	hop := smtptest.Start(t)
	hop.SetFaults(
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^gone`, Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"},
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^later@`, Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "try again later"},
	)
	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{RelayHost: hop.Addr})
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "newsletter.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, "\n[bounces]\nreturn_path = \"bounces@example.org\"\n"...), 0o644)
	os.WriteFile(filepath.Join(c.dir, "readers.csv"), []byte("email\nok@example.com\ngone1@example.com\ngone2@example.com\nlater@example.com\n"), 0o644)
	c.ok("subscribers", "import", filepath.Join(c.dir, "readers.csv"))
	today := time.Now().UTC().Format("2006-01-02")
	os.WriteFile(filepath.Join(c.dir, "post.txt"), []byte(today+"\nA Post\nSomething for everyone.\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "post.txt"))
	transport := "smtp://" + pf.Addr() + "?tls=none"
	c.ok("digest", "--transport", transport)
	pf.WaitCount(t, "bounces", 2, 30*time.Second)
	time.Sleep(2 * time.Second) // later@ is being retried: no DSN for it
	if n := pf.Count("bounces"); n != 2 {
		t.Fatalf("%d DSNs, want 2", n)
	}
	for _, m := range pf.Messages(t, "bounces") {
		if !strings.Contains(string(m), "Delivered-To: bounces+") {
			t.Fatalf("a DSN not to a VERP address:\n%s", m)
		}
	}
	// A copy of the database before any bounce is read, for IMAP.
	dbCopy, _ := os.ReadFile(filepath.Join(c.dir, "newsletter.db"))

	want := map[string]string{"ok@example.com": "sent", "later@example.com": "sent", "gone1@example.com": "bounced", "gone2@example.com": "bounced"}
	_, errs, code := c.run("bounces", "read", pf.Maildir("bounces"))
	if code != 0 || !strings.Contains(errs, "2 messages: 2 reports recorded (2 addresses bounced, 0 complained)") {
		t.Fatalf("bounces read: exit %d\n%s", code, errs)
	}
	checkStates := func(c *cli, when string) {
		t.Helper()
		got := deliveryStates(t, c)
		for email, st := range want {
			if got[email] != st {
				t.Errorf("%s: %s is %s, want %s", when, email, got[email], st)
			}
		}
		out := c.ok("--format", "csv", "subscribers", "list")
		for _, email := range []string{"gone1@example.com", "gone2@example.com"} {
			if !strings.Contains(out, email+",") || !regexpLine(out, email, "bounced") {
				t.Errorf("%s: %s is not bounced:\n%s", when, email, out)
			}
		}
		if regexpLine(out, "later@example.com", "bounced") || regexpLine(out, "ok@example.com", "bounced") {
			t.Errorf("%s: more addresses bounced:\n%s", when, out)
		}
	}
	checkStates(c, "after bounces read")
	_, errs, _ = c.run("bounces", "read", pf.Maildir("bounces"))
	if !strings.Contains(errs, "0 reports recorded (0 addresses bounced, 0 complained), 2 seen before") {
		t.Errorf("second read: %s", errs)
	}
	checkStates(c, "after a second read")

	// Reports.
	var cs []map[string]any
	json.Unmarshal([]byte(c.ok("--format", "json", "campaigns")), &cs)
	if len(cs) != 1 || cs[0]["bounced"] != 2.0 || cs[0]["complained"] != 0.0 || cs[0]["bounce_rate"] != 0.5 {
		t.Errorf("campaigns: %v", cs)
	}
	list := c.ok("--format", "csv", "bounces", "list", "--campaign", "1")
	if strings.Count(list, ",hard,maildir,5.1.1,") != 2 {
		t.Errorf("bounces list:\n%s", list)
	}
	if out := c.ok("--format", "csv", "bounces", "list", "--campaign", "2"); strings.Count(out, "\n") != 1 {
		t.Errorf("bounces list of another campaign:\n%s", out)
	}
	os.WriteFile(filepath.Join(c.dir, "post2.txt"), []byte(today+"\nAnother Post\nMore.\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "post2.txt"))
	_, errs, _ = c.run("digest", "--transport", "file://"+filepath.Join(c.dir, "outbox"))
	if !strings.Contains(errs, "warning: campaign 1 of list newsletter had a complaint rate of 0.00% (keep it under 0.10%) and a bounce rate of 50.00% (keep it under 2.00%)") {
		t.Errorf("digest does not warn:\n%s", errs)
	}

	// The same maildir over IMAPS, on the copy.
	dc := mtatest.StartDovecot(t, mtatest.DovecotOptions{Maildir: pf.Maildir("bounces"), TLS: true})
	c2 := &cli{t: t, dir: t.TempDir()}
	os.WriteFile(filepath.Join(c2.dir, "newsletter.db"), dbCopy, 0o600)
	b, _ = os.ReadFile(cfg)
	b = append(b, "imap = \""+dc.URL(true)+"\"\nca_file = \""+dc.Cert.CAFile+"\"\n"...)
	os.WriteFile(filepath.Join(c2.dir, "newsletter.toml"), b, 0o644)
	t.Setenv("NEWSLETTER_IMAP_PASSWORD", dc.Password)
	_, errs, code = c2.run("bounces", "fetch")
	if code != 0 || !strings.Contains(errs, "2 messages: 2 reports recorded (2 addresses bounced, 0 complained)") {
		t.Fatalf("bounces fetch: exit %d\n%s", code, errs)
	}
	checkStates(c2, "after bounces fetch")
	_, errs, _ = c2.run("bounces", "fetch")
	if !strings.Contains(errs, "0 messages") {
		t.Errorf("second fetch: %s", errs)
	}
	checkStates(c2, "after a second fetch")

	// A wrong password says what to do.
	t.Setenv("NEWSLETTER_IMAP_PASSWORD", "wrong")
	if _, errs, code = c2.run("bounces", "fetch"); code == 0 || !strings.Contains(errs, "NEWSLETTER_IMAP_PASSWORD") {
		t.Errorf("wrong password: exit %d\n%s", code, errs)
	}
}

// regexpLine reports whether the CSV line of email contains field.
func regexpLine(out, email, field string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, email+",") && strings.Contains(","+l+",", ","+field+",") {
			return true
		}
	}
	return false
}

// TestSchedule_FetchesBouncesFirst: with bounces.imap set, a scheduled run
// fetches the bounce mailbox before it sends, so an address that bounced
// since the last send is not mailed again.
func TestSchedule_FetchesBouncesFirst(t *testing.T) {
	c, srv := scheduleFixture(t, 2)
	cfg := filepath.Join(c.dir, "newsletter.toml")
	b, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, "[bounces]\nreturn_path = \"bounces@example.org\"\n"...), 0o644)
	c.ok("schedule", "--once", "--now", "2026-11-30T09:05:00Z", "--transport", srv.URL())
	var verp string
	for _, m := range srv.Messages() {
		if m.To[0] == "reader000@example.org" {
			verp = m.From
		}
	}
	if !strings.HasPrefix(verp, "bounces+") {
		t.Fatalf("envelope sender %q is not a VERP address", verp)
	}
	dir := filepath.Join(t.TempDir(), "Maildir")
	mtatest.WriteMaildir(t, dir, []byte(strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.com
To: `+verp+`
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; reader000@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 no such user

--b--
`, "\n", "\r\n")))
	dc := mtatest.StartDovecot(t, mtatest.DovecotOptions{Maildir: dir, TLS: true})
	b, _ = os.ReadFile(cfg)
	os.WriteFile(cfg, append(b, "imap = \""+dc.URL(true)+"\"\nca_file = \""+dc.Cert.CAFile+"\"\n"...), 0o644)
	t.Setenv("NEWSLETTER_IMAP_PASSWORD", dc.Password)
	os.WriteFile(filepath.Join(c.dir, "post2.txt"), []byte("2026-12-04\nWeek Two\nMore.\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "post2.txt"))
	_, errs, code := c.run("schedule", "--once", "--now", "2026-12-07T09:05:00Z", "--transport", srv.URL())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	if !strings.Contains(errs, "bounces fetch") {
		t.Errorf("no bounces fetch in the log:\n%s", errs)
	}
	if n := srv.Count("reader000@example.org"); n != 1 {
		t.Errorf("the bounced reader got %d messages, want 1 (the first week's)", n)
	}
	if n := srv.Count("reader001@example.org"); n != 2 {
		t.Errorf("reader001 got %d messages, want 2", n)
	}
}

// TestServe_MailgunWebhook: `serve` with bounces.mailgun_signing_key takes
// a signed Mailgun "failed" event at /webhooks/mailgun and refuses an
// unsigned one; the subscriber pages still answer beside it.
func TestServe_MailgunWebhook(t *testing.T) {
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	c := newCLI(t)
	cfg := filepath.Join(c.dir, "newsletter.toml")
	raw, _ := os.ReadFile(cfg)
	os.WriteFile(cfg, append(raw, "\n[bounces]\nreturn_path = \"bounces@example.org\"\nmailgun_signing_key = \"key-test\"\n"...), 0o600)
	os.WriteFile(filepath.Join(c.dir, "readers.csv"), []byte("email\ngone@example.com\n"), 0o644)
	c.ok("subscribers", "import", filepath.Join(c.dir, "readers.csv"))
	os.WriteFile(filepath.Join(c.dir, "post.txt"), []byte(time.Now().UTC().Format("2006-01-02")+"\nA Post\nBody.\n"), 0o644)
	c.ok("articles", "add", filepath.Join(c.dir, "post.txt"))
	srv := smtptest.Start(t)
	c.ok("digest", "--transport", srv.URL())
	sender := srv.Messages()[0].From

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		var out, errb bytes.Buffer
		done <- run(ctx, []string{"--db", filepath.Join(c.dir, "newsletter.db"), "--config", cfg, "serve", "--addr", addr}, nil, &out, &errb)
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitHTTP(t, "http://"+addr+"/healthz")
	event := func(key string) string {
		ts := fmt.Sprint(time.Now().Unix())
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(ts + "tok"))
		return fmt.Sprintf(`{"signature":{"timestamp":%q,"token":"tok","signature":%q},"event-data":{"event":"failed","severity":"permanent","id":"e1",
			"recipient":"gone@example.com","delivery-status":{"code":550,"message":"5.1.1 no such user"},"envelope":{"sender":%q}}}`,
			ts, hex.EncodeToString(mac.Sum(nil)), sender)
	}
	for _, try := range []struct {
		key  string
		want int
	}{{"wrong", http.StatusForbidden}, {"key-test", http.StatusNoContent}} {
		key, want := try.key, try.want
		resp, err := http.Post("http://"+addr+"/webhooks/mailgun", "application/json", strings.NewReader(event(key)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("key %s: %d, want %d", key, resp.StatusCode, want)
		}
		if key == "wrong" {
			if got := deliveryStates(t, c)["gone@example.com"]; got != "sent" {
				t.Errorf("after a refused event: %s", got)
			}
		}
	}
	if got := deliveryStates(t, c)["gone@example.com"]; got != "bounced" {
		t.Errorf("after the signed event: %s", got)
	}
}
