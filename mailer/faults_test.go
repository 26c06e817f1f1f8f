package mailer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// TestSender_NoResendAfterTheDot: a server that takes a whole message and
// then drops the connection, or does not answer, before its 250 may have
// delivered it. The delivery is unknown and the message is not sent again,
// with PIPELINING and without.
func TestSender_NoResendAfterTheDot(t *testing.T) {
	const who = "reader001@example.org"
	for _, pipelined := range []bool{true, false} {
		for _, fault := range []smtptest.Fault{
			{Stage: smtptest.DropAfterDot, Match: who},
			{Stage: smtptest.StallAfterDot, Match: who, Delay: 3 * time.Second},
		} {
			name := fault.Stage
			if !pipelined {
				name += "/plain"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, 5)
				srv := smtptest.Start(t)
				srv.SetFaults(fault)
				opts := []mailer.SMTPOption{mailer.WithTimeouts(2*time.Second, 2*time.Second, 500*time.Millisecond)}
				if !pipelined {
					opts = append(opts, mailer.WithoutPipelining())
				}
				tr, err := mailer.ParseTransport(srv.URL(), "", opts...)
				if err != nil {
					t.Fatal(err)
				}
				s := f.sender(t, srv.URL())
				s.Transport, s.Concurrency, s.Retries = tr, 1, 5
				st, err := s.Run(context.Background(), f.campaign)
				if err != nil {
					t.Fatal(err)
				}
				ds := f.deliveries(t)
				if d := ds[who]; d.Status != "unknown" || d.Attempts != 1 || !strings.Contains(d.Error, "may or may not have been delivered") {
					t.Errorf("%s: %s after %d attempts (%s), want unknown after 1", who, d.Status, d.Attempts, d.Error)
				}
				if n := srv.Count(who); n != 1 {
					t.Errorf("%s: the server received %d messages, want 1 (no second transmission)", who, n)
				}
				if st.Unknown != 1 || st.Sent != 4 {
					t.Errorf("stats %+v, want 4 sent and 1 unknown", st)
				}
				for e, d := range ds {
					if e != who && (d.Status != "sent" || srv.Count(e) != 1) {
						t.Errorf("%s: %s, received %d", e, d.Status, srv.Count(e))
					}
				}
			})
		}
	}
}

// TestSender_SenderDomainRefusedBouncesNobody: a relay that refuses the
// sender's domain at every RCPT (553 5.1.8, as Postfix does by default)
// fails no reader's address, and the run stops with everyone pending.
func TestSender_SenderDomainRefusedBouncesNobody(t *testing.T) {
	f := newFixture(t, 60)
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Code: 553, Enhanced: [3]int{5, 1, 8}, Message: "<news@example.org>: Sender address rejected: Domain not found"})
	st, err := f.sender(t, srv.URL()).Run(context.Background(), f.campaign)
	if err == nil || !strings.Contains(err.Error(), "5.1.8") || !strings.Contains(err.Error(), "sender") {
		t.Fatalf("err = %v, want the run stopped with the 5.1.8 reply", err)
	}
	if st.Failed != 0 {
		t.Errorf("stats %+v: no delivery is failed for the sender's fault", st)
	}
	for e, d := range f.deliveries(t) {
		if d.Status != "pending" {
			t.Errorf("%s is %s, want pending", e, d.Status)
		}
		if s, _ := f.db.SubscriberByEmail(context.Background(), e); s.Status != "active" {
			t.Errorf("%s became %s", e, s.Status)
		}
	}
	if srv.Count("") != 0 {
		t.Errorf("the server took %d messages", srv.Count(""))
	}
}

// TestSender_ClassifyReply pins the reading of replies: by enhanced code
// first, then by the basic code and the stage.
func TestSender_ClassifyReply(t *testing.T) {
	for _, tc := range []struct {
		code     int
		enhanced string
		stage    string
		want     mailer.Reason
	}{
		{450, "4.2.1", "rcpt", mailer.ReasonTemporary},
		{550, "5.1.1", "rcpt", mailer.ReasonRecipient},
		{550, "5.1.10", "rcpt", mailer.ReasonRecipient},
		{552, "5.2.2", "rcpt", mailer.ReasonRecipient},
		{550, "5.4.1", "rcpt", mailer.ReasonRecipient},
		{553, "5.1.8", "rcpt", mailer.ReasonSender},
		{550, "5.1.7", "rcpt", mailer.ReasonSender},
		{554, "5.7.1", "rcpt", mailer.ReasonSender},
		{550, "5.7.1", "dot", mailer.ReasonSender},
		{554, "5.3.4", "dot", mailer.ReasonSender},
		{501, "5.5.2", "rcpt", mailer.ReasonSender},
		{550, "5.1.1", "mail", mailer.ReasonSender},
		{550, "", "rcpt", mailer.ReasonRecipient},
		{554, "", "rcpt", mailer.ReasonSender},
		{550, "", "dot", mailer.ReasonSender},
		{535, "5.7.8", "connect", mailer.ReasonConnection},
	} {
		if got := mailer.ClassifyReply(tc.code, tc.enhanced, tc.stage); got != tc.want {
			t.Errorf("%d %s at %s: %s, want %s", tc.code, tc.enhanced, tc.stage, got, tc.want)
		}
	}
}
