package bounces_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/internal/mtatest"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// copyDB copies a closed database file.
func copyDB(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestPostfixBounces sends a digest through a real Postfix relaying to a
// next hop that refuses two readers (550 5.1.1) and defers one (451). The
// relay says yes to all five; Postfix then mails its own DSNs to the VERP
// addresses. Reading the bounce maildir marks exactly the refused readers
// bounced, and a second read changes nothing; fetching the same maildir
// from Dovecot over IMAPS does the same on a copy of the database.
func TestPostfixBounces(t *testing.T) {
	ctx := context.Background()
	hop := smtptest.Start(t)
	hop.SetFaults(
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^gone`, Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"},
		smtptest.Fault{Stage: smtptest.Rcpt, Match: `^later@`, Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "try again later"},
	)
	pf := mtatest.StartPostfix(t, mtatest.PostfixOptions{RelayHost: hop.Addr})
	dir := t.TempDir()
	e := newEnv(t, filepath.Join(dir, "a.db"))
	readers := []string{"ok1@example.com", "gone1@example.com", "ok2@example.com", "gone2@example.com", "later@example.com"}
	e.addReaders(t, readers...)
	e.addArticle(t)
	tr, err := mailer.ParseTransport("smtp://"+pf.Addr()+"?tls=none", "")
	if err != nil {
		t.Fatal(err)
	}
	e.digest(t, tr)
	sent := map[string]string{}
	for _, r := range readers {
		sent[r] = "sent/active"
	}
	if got := e.states(t); !reflect.DeepEqual(got, sent) {
		t.Fatalf("after the send: %v, want all sent", got)
	}
	pf.WaitCount(t, "bounces", 2, 30*time.Second)
	time.Sleep(2 * time.Second) // later@ is retried; it must not bounce
	if n := pf.Count("bounces"); n != 2 {
		t.Fatalf("%d DSNs in the bounce maildir, want 2", n)
	}

	// A copy of the database before any bounce was read, for IMAP.
	e.db.Close()
	copyDB(t, e.path, filepath.Join(dir, "b.db"))
	e = newEnv(t, e.path)

	want := map[string]string{
		"ok1@example.com": "sent/active", "ok2@example.com": "sent/active", "later@example.com": "sent/active",
		"gone1@example.com": "bounced/bounced", "gone2@example.com": "bounced/bounced",
	}
	o, err := e.proc.Read(ctx, pf.Maildir("bounces"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Messages != 2 || o.Recorded != 2 || o.Bounced != 2 {
		t.Errorf("first read: %+v, want 2 messages, 2 recorded, 2 bounced", o)
	}
	if got := e.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after reading the maildir:\n got %v\nwant %v", got, want)
	}
	recs, _ := e.db.BounceRecords(ctx, newsletterFilter())
	for _, r := range recs {
		if r.Source != "maildir" || r.Status != "5.1.1" || r.Kind != "hard" || r.Diagnostic == "" || r.At.IsZero() {
			t.Errorf("event %+v", r)
		}
	}
	o, err = e.proc.Read(ctx, pf.Maildir("bounces"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Recorded != 0 || o.Duplicates != 2 || o.Bounced != 0 {
		t.Errorf("second read: %+v, want 2 duplicates and nothing new", o)
	}
	if got := e.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after the second read: %v", got)
	}
	if recs2, _ := e.db.BounceRecords(ctx, newsletterFilter()); len(recs2) != 2 {
		t.Errorf("%d events after two reads, want 2", len(recs2))
	}

	// The same through IMAPS from Dovecot, on the copy.
	dc := mtatest.StartDovecot(t, mtatest.DovecotOptions{Maildir: pf.Maildir("bounces"), TLS: true})
	eb := newEnv(t, filepath.Join(dir, "b.db"))
	opts := bounces.FetchOptions{
		URL:       fmt.Sprintf("imaps://%s@%s/INBOX", dc.User, dc.TLSAddr()),
		Password:  dc.Password,
		TLSConfig: dc.Cert.ClientConfig("127.0.0.1"),
	}
	o, err = eb.proc.Fetch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.Messages != 2 || o.Recorded != 2 || o.Bounced != 2 {
		t.Errorf("first fetch: %+v", o)
	}
	if got := eb.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after fetching over IMAP:\n got %v\nwant %v", got, want)
	}
	o, err = eb.proc.Fetch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.Messages != 0 {
		t.Errorf("second fetch read %d messages, want 0: the first flags what it processed", o.Messages)
	}
	if got := eb.states(t); !reflect.DeepEqual(got, want) {
		t.Errorf("after the second fetch: %v", got)
	}
}
