package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/internal/testtool"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
)

// fixture is a database with n active subscribers in list "newsletter" and
// a campaign of one article to all of them.
type fixture struct {
	db       *sqlite.DB
	campaign int64
	builder  *mailer.Builder
}

func newFixture(tb testing.TB, n int) *fixture {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "send.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for i := 0; i < n; i++ {
			if !yield(&newsletter.SubscriberInput{Email: fmt.Sprintf("reader%03d@example.org", i), Name: fmt.Sprintf("Reader %d", i)}, nil) {
				return
			}
		}
	}
	if _, err := db.ImportSubscribers(ctx, rows, newsletter.ImportOptions{}); err != nil {
		tb.Fatal(err)
	}
	a := &newsletter.Article{Slug: "canal", Title: "Canal Cleanup", Date: time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), Body: "Body", Summary: "Sum"}
	if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
		tb.Fatal(err)
	}
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: "newsletter", Key: "t", ArticleIDs: []int64{a.ID}})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := mailer.NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust")
	if err != nil {
		tb.Fatal(err)
	}
	return &fixture{db: db, campaign: c.ID, builder: b}
}

func (f *fixture) sender(tb testing.TB, transportURL string) *mailer.Sender {
	tb.Helper()
	tr, err := mailer.ParseTransport(transportURL, "", mailer.WithTimeouts(2*time.Second, 5*time.Second, 5*time.Second))
	if err != nil {
		tb.Fatal(err)
	}
	return &mailer.Sender{
		Log:       f.db,
		Transport: tr,
		Compose: func(ctx context.Context, r *newsletter.Recipient) (*mailer.Built, error) {
			return f.builder.Build(&mailer.Message{ToName: r.Name, ToEmail: r.Email, Subject: "Hello", Text: "Hello " + r.Name, HTML: "<p>Hello</p>",
				List: "newsletter", UnsubscribeURL: "https://news.example.org/u/x"})
		},
		Concurrency: 4,
		Retries:     3,
		Backoff:     time.Millisecond,
		MaxBackoff:  5 * time.Millisecond,
		Flush:       10 * time.Millisecond,
	}
}

func (f *fixture) deliveries(tb testing.TB) map[string]*newsletter.Delivery {
	tb.Helper()
	ds, err := f.db.Deliveries(context.Background(), newsletter.DeliveryFilter{CampaignID: f.campaign})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]*newsletter.Delivery{}
	for _, d := range ds {
		out[d.Email] = d
	}
	return out
}

// messageID returns the Message-ID header of raw message data.
func messageID(data []byte) string {
	for _, l := range strings.Split(string(data), "\r\n") {
		if strings.HasPrefix(l, "Message-ID: ") {
			return strings.TrimPrefix(l, "Message-ID: ")
		}
	}
	return ""
}

func TestSender_AllSentOnceAndLogged(t *testing.T) {
	f := newFixture(t, 40)
	srv := smtptest.Start(t)
	st, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent != 40 || st.Failed != 0 {
		t.Fatalf("stats = %+v", st)
	}
	msgs := srv.Messages()
	if len(msgs) != 40 {
		t.Fatalf("server got %d messages", len(msgs))
	}
	ds := f.deliveries(t)
	seen := map[string]bool{}
	for _, m := range msgs {
		to := m.To[0]
		if seen[to] {
			t.Errorf("%s got two messages", to)
		}
		seen[to] = true
		d := ds[to]
		if d == nil || d.Status != "sent" || d.Code != 250 || d.Attempts != 1 {
			t.Errorf("%s: logged %+v", to, d)
			continue
		}
		if got := messageID(m.Data); got != d.MessageID {
			t.Errorf("%s: logged Message-ID %s, server has %s", to, d.MessageID, got)
		}
	}
	if done, _ := f.db.FinishCampaign(context.Background(), f.campaign); !done {
		t.Error("campaign not finished")
	}
	// A second run finds nothing pending and sends nothing.
	st, err = f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err != nil || st.Sent != 0 || srv.Count("") != 40 {
		t.Fatalf("second run: %+v %v, server has %d", st, err, srv.Count(""))
	}
}

// TestSender_RetryPolicy covers each branch of the retry policy against the
// fault-injecting server.
func TestSender_RetryPolicy(t *testing.T) {
	const who = "reader000@example.org"
	for _, tc := range []struct {
		name         string
		faults       []smtptest.Fault
		wantStatus   string
		wantAttempts int
		wantCode     int
		wantSubject  string // subscriber status after the run
		wantReceived int
	}{
		{"Temp451AtRcptThenOK", []smtptest.Fault{{Stage: smtptest.Rcpt, Match: who, Code: 451, Enhanced: [3]int{4, 3, 0}, Times: 2}}, "sent", 3, 250, "active", 1},
		{"Temp452AtMailThenOK", []smtptest.Fault{{Stage: smtptest.Mail, Code: 452, Enhanced: [3]int{4, 3, 1}, Times: 1}}, "sent", 2, 250, "active", 1},
		{"Temp451AtDataDeferred", []smtptest.Fault{{Stage: smtptest.Data, Match: who, Code: 451, Enhanced: [3]int{4, 3, 0}}}, "deferred", 4, 451, "active", 0},
		{"Perm550NoSuchUser", []smtptest.Fault{{Stage: smtptest.Rcpt, Match: who, Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"}}, "failed", 1, 550, "bounced", 0},
		{"Perm554AtDataCounted", []smtptest.Fault{{Stage: smtptest.Data, Match: who, Code: 554, Enhanced: [3]int{5, 7, 1}, Message: "rejected by policy"}}, "failed", 1, 554, "active", 0},
		// The whole message was written before the drop: the sender cannot
		// tell this from a drop after the server took it, so it is unknown
		// and not sent again.
		{"DroppedMidDataUnknown", []smtptest.Fault{{Stage: smtptest.Drop, Match: who, Times: 1}}, "unknown", 1, 0, "active", 0},
		{"Greeting421ThenOK", []smtptest.Fault{{Stage: smtptest.Greet, Times: 2}}, "sent", 1, 250, "active", 1},
		{"SlowReplies", []smtptest.Fault{{Stage: smtptest.Rcpt, Delay: 30 * time.Millisecond}}, "sent", 1, 250, "active", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, 3)
			srv := smtptest.Start(t)
			srv.SetFaults(tc.faults...)
			s := f.sender(t, srv.URL())
			s.Concurrency = 1
			if _, err := s.Run(context.Background(), f.campaign); err != nil {
				t.Fatal(err)
			}
			d := f.deliveries(t)[who]
			if d.Status != tc.wantStatus || d.Attempts != tc.wantAttempts || d.Code != tc.wantCode {
				t.Errorf("delivery = %s attempts %d code %d (%s); want %s attempts %d code %d",
					d.Status, d.Attempts, d.Code, d.Error, tc.wantStatus, tc.wantAttempts, tc.wantCode)
			}
			if got := srv.Count(who); got != tc.wantReceived {
				t.Errorf("server received %d messages for %s, want %d", got, who, tc.wantReceived)
			}
			sub, _ := f.db.SubscriberByEmail(context.Background(), who)
			if sub.Status != tc.wantSubject {
				t.Errorf("subscriber status = %s, want %s", sub.Status, tc.wantSubject)
			}
			// The others are never affected.
			for _, other := range []string{"reader001@example.org", "reader002@example.org"} {
				if srv.Count(other) != 1 {
					t.Errorf("%s received %d messages", other, srv.Count(other))
				}
			}
		})
	}
}

func TestSender_ThreePermanentFailuresBounce(t *testing.T) {
	const who = "reader000@example.org"
	f := newFixture(t, 1)
	srv := smtptest.Start(t)
	// 5.2.2, mailbox full: about the recipient, but not proof that the
	// address is dead.
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: who, Code: 552, Enhanced: [3]int{5, 2, 2}})
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if i > 0 {
			// A new campaign each time, as weekly digests would be.
			if _, err := f.db.FinishCampaign(ctx, f.campaign); err != nil {
				t.Fatal(err)
			}
			arts, _ := f.db.Articles(ctx, newsletter.ArticleFilter{})
			c, err := f.db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: "newsletter", Key: fmt.Sprint("again", i), ArticleIDs: []int64{arts[0].ID}})
			if err != nil {
				t.Fatal(err)
			}
			f.campaign = c.ID
		}
		if _, err := f.sender(t, srv.URL()).Run(ctx, f.campaign); err != nil {
			t.Fatal(err)
		}
		sub, _ := f.db.SubscriberByEmail(ctx, who)
		want := "active"
		if i == 2 {
			want = "bounced"
		}
		if sub.Status != want {
			t.Fatalf("after %d permanent failures: %s, want %s", i+1, sub.Status, want)
		}
	}
}

func TestSender_ServerDown(t *testing.T) {
	f := newFixture(t, 10)
	// A port with nothing listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := f.sender(t, "smtp://"+addr+"?tls=none")
	st, err := s.Run(context.Background(), f.campaign)
	if !errors.Is(err, mailer.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if st.Sent != 0 {
		t.Fatalf("stats %+v", st)
	}
	for e, d := range f.deliveries(t) {
		if d.Status != "pending" {
			t.Errorf("%s is %s, want pending (resumable)", e, d.Status)
		}
	}
	if done, _ := f.db.FinishCampaign(context.Background(), f.campaign); done {
		t.Error("campaign marked done with nothing sent")
	}
	// The server comes back: the same campaign resumes and completes.
	srv := smtptest.Start(t)
	st, err = f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err != nil || st.Sent != 10 || srv.Count("") != 10 {
		t.Fatalf("resume: %+v %v; server got %d", st, err, srv.Count(""))
	}
}

func TestSender_Interrupted(t *testing.T) {
	f := newFixture(t, 200)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Delay: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	s := f.sender(t, srv.URL())
	n := 0
	s.OnResult = func(string) {
		if n++; n == 20 {
			cancel()
		}
	}
	st, err := s.Run(ctx, f.campaign)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Interrupted || st.Sent >= 200 {
		t.Fatalf("stats %+v", st)
	}
	sent := 0
	for e, d := range f.deliveries(t) {
		switch d.Status {
		case "sent":
			sent++
		case "pending":
		default:
			t.Errorf("%s left %s after an interrupt: in-flight messages must be finished and logged", e, d.Status)
		}
	}
	if sent != srv.Count("") {
		t.Errorf("log says %d sent, server has %d", sent, srv.Count(""))
	}
}

func TestSender_RateLimit(t *testing.T) {
	f := newFixture(t, 5)
	srv := smtptest.Start(t)
	s := f.sender(t, srv.URL())
	s.Rate = 50
	start := time.Now()
	if _, err := s.Run(context.Background(), f.campaign); err != nil {
		t.Fatal(err)
	}
	// 5 messages at 50/s with a burst of 1 need at least 4 gaps of 20ms.
	if el := time.Since(start); el < 70*time.Millisecond {
		t.Errorf("5 messages at 50/s took only %s", el)
	}
}

func TestSender_SenderRefusedStopsTheRun(t *testing.T) {
	f := newFixture(t, 5)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Mail, Code: 550, Enhanced: [3]int{5, 7, 1}, Message: "sender not allowed"})
	st, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err == nil || !strings.Contains(err.Error(), "refused the sender address news@example.org") {
		t.Fatalf("err = %v", err)
	}
	if st.Failed != 0 {
		t.Errorf("stats %+v: a refused sender is not the readers' failure", st)
	}
	for e, d := range f.deliveries(t) {
		if d.Status != "pending" {
			t.Errorf("%s is %s, want pending", e, d.Status)
		}
		if s, _ := f.db.SubscriberByEmail(context.Background(), e); s.Status != "active" {
			t.Errorf("%s became %s", e, s.Status)
		}
	}
}

func TestTransport_AuthAndTLS(t *testing.T) {
	f := newFixture(t, 2)
	t.Run("Auth", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "s3cret"))
		if _, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign); err != nil {
			t.Fatal(err)
		}
		if srv.Count("") != 2 {
			t.Fatalf("server got %d", srv.Count(""))
		}
	})
	t.Run("ErrWrongPassword", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "s3cret"))
		tr, _ := mailer.ParseTransport("smtp://news:wrong@"+srv.Addr+"?tls=none", "")
		_, err := tr.Open(context.Background())
		var se *mailer.SendError
		if !errors.As(err, &se) || se.Code != 535 {
			t.Fatalf("err = %v, want a 535", err)
		}
	})
	t.Run("CRAMMD5", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "s3cret"))
		tr, _ := mailer.ParseTransport("smtp://news:s3cret@"+srv.Addr+"?tls=none&auth=cram-md5", "")
		c, err := tr.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
		tr, _ = mailer.ParseTransport("smtp://news:wrong@"+srv.Addr+"?tls=none&auth=cram-md5", "")
		if _, err := tr.Open(context.Background()); err == nil {
			t.Fatal("a wrong CRAM-MD5 password was accepted")
		}
	})
	t.Run("PasswordFromCaller", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithAuth("news", "s3cret"))
		tr, _ := mailer.ParseTransport("smtp://news@"+srv.Addr+"?tls=none", "s3cret")
		c, err := tr.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
	t.Run("ErrStartTLSRequired", func(t *testing.T) {
		srv := smtptest.Start(t)
		tr, _ := mailer.ParseTransport("smtp://"+srv.Addr, "")
		_, err := tr.Open(context.Background())
		if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Opportunistic", func(t *testing.T) {
		srv := smtptest.Start(t)
		tr, _ := mailer.ParseTransport("smtp://"+srv.Addr+"?tls=opportunistic", "")
		c, err := tr.Open(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	})
}

func TestFileTransport(t *testing.T) {
	f := newFixture(t, 3)
	dir := t.TempDir()
	s := f.sender(t, "file://"+dir)
	if _, err := s.Run(context.Background(), f.campaign); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*", "*.eml"))
	if len(files) != 3 {
		t.Fatalf("files = %v", files)
	}
}

func TestTransport_TLS(t *testing.T) {
	serverTLS, clientTLS := smtptest.TLSPair(t)
	send := func(t *testing.T, url string, opts ...mailer.SMTPOption) error {
		f := newFixture(t, 1)
		tr, err := mailer.ParseTransport(url, "", opts...)
		if err != nil {
			t.Fatal(err)
		}
		c, err := tr.Open(context.Background())
		if err != nil {
			return err
		}
		defer c.Close()
		m, _ := f.builder.Build(&mailer.Message{ToEmail: "ana@example.org", Subject: "s", Text: "t"})
		return c.Send(context.Background(), m)
	}
	t.Run("StartTLS", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithTLS(serverTLS, false), smtptest.WithAuth("news", "pw"))
		if err := send(t, "smtp://news:pw@"+srv.Addr, mailer.WithTLSConfig(clientTLS)); err != nil {
			t.Fatal(err)
		}
		if srv.Count("ana@example.org") != 1 {
			t.Fatal("not received")
		}
	})
	t.Run("ErrUntrustedCertificate", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithTLS(serverTLS, false))
		if err := send(t, "smtp://"+srv.Addr); err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Implicit", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithTLS(serverTLS, true))
		if err := send(t, "smtps://"+srv.Addr, mailer.WithTLSConfig(clientTLS)); err != nil {
			t.Fatal(err)
		}
		if srv.Count("ana@example.org") != 1 {
			t.Fatal("not received")
		}
	})
	t.Run("ErrMechanismNotOffered", func(t *testing.T) {
		srv := smtptest.Start(t, smtptest.WithTLS(serverTLS, false), smtptest.WithAuth("news", "pw"))
		// The test server offers PLAIN only: asking for LOGIN is refused
		// by the server, and the error says so.
		err := send(t, "smtp://news:pw@"+srv.Addr+"?auth=login", mailer.WithTLSConfig(clientTLS))
		if err == nil {
			t.Fatal("LOGIN accepted by a PLAIN-only server")
		}
	})
}

// TestTransport_AuthMechanismsMailpit logs in with PLAIN and LOGIN against
// Mailpit (which offers no CRAM-MD5; the in-process server tests that).
func TestTransport_AuthMechanismsMailpit(t *testing.T) {
	pwfile := filepath.Join(t.TempDir(), "passwords")
	os.WriteFile(pwfile, []byte("news:pw\n"), 0o600)
	mp := testtool.StartMailpit(t, "--smtp-auth-file", pwfile, "--smtp-auth-allow-insecure")
	f := newFixture(t, 1)
	for _, mech := range []string{"auto", "plain", "login"} {
		t.Run(mech, func(t *testing.T) {
			tr, err := mailer.ParseTransport("smtp://news:pw@"+mp.SMTP+"?tls=none&auth="+mech, "")
			if err != nil {
				t.Fatal(err)
			}
			c, err := tr.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			m, _ := f.builder.Build(&mailer.Message{ToEmail: mech + "@example.org", Subject: "s", Text: "t"})
			if err := c.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		})
	}
	if n := len(mp.Messages(t)); n != 3 {
		t.Errorf("mailpit holds %d messages, want 3", n)
	}
}

// TestSender_TwoSendersNeverDuplicate runs two senders on the same campaign
// at once, as if the lease had failed: marking a delivery sending is a
// claim, so every reader still gets exactly one message.
func TestSender_TwoSendersNeverDuplicate(t *testing.T) {
	f := newFixture(t, 300)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Delay: time.Millisecond})
	second, err := sqlite.Open(context.Background(), f.db.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	s1 := f.sender(t, srv.URL())
	s2 := f.sender(t, srv.URL())
	s2.Log = second
	var wg sync.WaitGroup
	var st [2]mailer.Stats
	for i, s := range []*mailer.Sender{s1, s2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if st[i], err = s.Run(context.Background(), f.campaign); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if st[0].Sent == 0 || st[1].Sent == 0 {
		t.Logf("one sender did all the work: %+v %+v", st[0], st[1])
	}
	if st[0].Sent+st[1].Sent != 300 {
		t.Errorf("sent %d + %d, want 300", st[0].Sent, st[1].Sent)
	}
	for i := 0; i < 300; i++ {
		email := fmt.Sprintf("reader%03d@example.org", i)
		if n := srv.Count(email); n != 1 {
			t.Errorf("%s received %d messages", email, n)
		}
	}
	for e, d := range f.deliveries(t) {
		if d.Status != "sent" {
			t.Errorf("%s is %s", e, d.Status)
		}
	}
}
