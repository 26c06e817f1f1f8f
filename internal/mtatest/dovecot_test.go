package mtatest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/example/newsletter/internal/smtptest"
)

// fetchAll logs in to INBOX and returns every message's full text.
func fetchAll(t *testing.T, c *imapclient.Client, user, pass string) []string {
	t.Helper()
	if err := c.Login(user, pass).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	sel, err := c.Select("INBOX", nil).Wait()
	if err != nil {
		t.Fatalf("select: %v", err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	msgs, err := c.Fetch(imap.SeqSetNum(seqRange(sel.NumMessages)...), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.FindBodySection(section)))
	}
	return out
}

func seqRange(n uint32) []uint32 {
	s := make([]uint32, n)
	for i := range s {
		s[i] = uint32(i + 1)
	}
	return s
}

func TestDovecotServesAMaildir(t *testing.T) {
	t.Parallel()
	start := time.Now()
	dir := filepath.Join(t.TempDir(), "Maildir")
	msg := func(subj string) []byte {
		return []byte("From: a@example.org\r\nTo: bounces@example.org\r\nSubject: " + subj + "\r\n\r\nbody\r\n")
	}
	WriteMaildir(t, dir, msg("first"))
	// A file written as root before the start is handed over to Dovecot.
	os.WriteFile(filepath.Join(dir, "new", "1.root.test"), msg("second"), 0o600)
	dc := StartDovecot(t, DovecotOptions{Maildir: dir, User: "reader", Password: "pw"})
	t.Logf("dovecot started in %v on %s", time.Since(start), dc.Addr())

	c, err := imapclient.DialInsecure(dc.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("reader", "wrong").Wait(); err == nil {
		t.Fatal("a wrong password logged in")
	}
	msgs := fetchAll(t, c, "reader", "pw")
	if len(msgs) != 2 || !strings.Contains(msgs[0]+msgs[1], "Subject: first") || !strings.Contains(msgs[0]+msgs[1], "Subject: second") {
		t.Fatalf("messages: %q", msgs)
	}
	c.Logout().Wait()

	// A message delivered while it runs shows up in a new session.
	dc.Deliver(t, msg("third"))
	c2, err := imapclient.DialInsecure(dc.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if msgs := fetchAll(t, c2, "reader", "pw"); len(msgs) != 3 || !strings.Contains(msgs[2], "Subject: third") {
		t.Fatalf("after Deliver: %q", msgs)
	}
	c2.Logout().Wait()
	t.Logf("done in %v", time.Since(start))
}

// TestDovecotServesPostfixBounces is the whole chain of the bounce tests:
// Postfix relays to a next hop that refuses two readers, writes its DSNs
// into the bounces maildir, and Dovecot serves them over IMAPS.
func TestDovecotServesPostfixBounces(t *testing.T) {
	t.Parallel()
	start := time.Now()
	hop := smtptest.Start(t)
	hop.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: `^gone`, Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"})
	pf := StartPostfix(t, PostfixOptions{RelayHost: hop.Addr})
	for _, rcpt := range []string{"gone1@example.com", "ok@example.com", "gone2@example.com"} {
		if err := send(t, pf.Addr(), nil, "bounces+"+strings.Split(rcpt, "@")[0]+"@example.org", []string{rcpt}, "for "+rcpt); err != nil {
			t.Fatal(err)
		}
	}
	pf.WaitCount(t, "bounces", 2, 15*time.Second)

	dc := StartDovecot(t, DovecotOptions{Maildir: pf.Maildir("bounces"), TLS: true})
	c, err := imapclient.DialTLS(dc.TLSAddr(), &imapclient.Options{TLSConfig: dc.Cert.ClientConfig("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	msgs := fetchAll(t, c, dc.User, dc.Password)
	if len(msgs) != 2 {
		t.Fatalf("%d messages over IMAP, want 2", len(msgs))
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"report-type=delivery-status", "Final-Recipient: rfc822; gone1@example.com",
		"Final-Recipient: rfc822; gone2@example.com", "Delivered-To: bounces+gone1@example.org"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q in the messages over IMAP", want)
		}
	}
	c.Logout().Wait()

	// STARTTLS on the plain port works too.
	c2, err := imapclient.DialStartTLS(dc.Addr(), &imapclient.Options{TLSConfig: dc.Cert.ClientConfig("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if n := len(fetchAll(t, c2, dc.User, dc.Password)); n != 2 {
		t.Errorf("%d messages over STARTTLS, want 2", n)
	}
	c2.Logout().Wait()
	t.Logf("done in %v", time.Since(start))
}
