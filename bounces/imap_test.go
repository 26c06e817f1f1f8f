package bounces_test

import (
	"context"
	"testing"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/internal/mtatest"
)

// TestFetchMoves: with ?move=FOLDER each message processed, a bounce or
// not, is moved out of the mailbox; STARTTLS on the plain port works.
func TestFetchMoves(t *testing.T) {
	ctx := context.Background()
	e, _ := sentEnv(t, "gone@example.com")
	d := e.delivery(t, "gone@example.com")
	dir := t.TempDir() + "/Maildir"
	mtatest.WriteMaildir(t, dir, dsn(e.verp.Address(d.ID), "gone@example.com", "failed", "5.1.1", "550 5.1.1 no such user", d.MessageID))
	mtatest.WriteMaildir(t, dir, crlf("From: someone@example.net\nSubject: hello\n\nJust a note.\n"))
	dc := mtatest.StartDovecot(t, mtatest.DovecotOptions{Maildir: dir, TLS: true})
	opts := bounces.FetchOptions{URL: dc.URL(false) + "?move=Processed", Password: dc.Password, TLSConfig: dc.Cert.ClientConfig("127.0.0.1")}
	o, err := e.proc.Fetch(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if o.Messages != 2 || o.Bounced != 1 || o.NotReports != 1 {
		t.Errorf("fetch: %+v", o)
	}
	if got := e.states(t)["gone@example.com"]; got != "bounced/bounced" {
		t.Errorf("gone: %s", got)
	}
	c, err := imapclient.DialStartTLS(dc.Addr(), &imapclient.Options{TLSConfig: dc.Cert.ClientConfig("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login(dc.User, dc.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	for box, want := range map[string]uint32{"INBOX": 0, "Processed": 2} {
		sel, err := c.Select(box, nil).Wait()
		if err != nil {
			t.Fatal(err)
		}
		if sel.NumMessages != want {
			t.Errorf("%s has %d messages, want %d", box, sel.NumMessages, want)
		}
	}
}
