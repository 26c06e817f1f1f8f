package campaign_test

import (
	"context"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
)

// TestAttack_DeferredRetryOfCampaignWithAFailureBlocksTheNewDigest: a
// campaign ended with one bounced reader (failed, as on any real list) and
// one deferred reader. The next digest retries the deferred one (it is
// sent) and then mails the new article. It used to stop after the retry,
// because the retried campaign's old failure counted as "not through": the
// new article was silently not mailed.
func TestAttack_DeferredRetryOfCampaignWithAFailureBlocksTheNewDigest(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	addReaders(t, s, reader{email: "busy@example.org"}, reader{email: "dead@example.org"}, reader{email: "fine@example.org"})
	addArticle(t, s, "week-one", "2026-11-27")
	srv.SetFaults(
		smtptest.Fault{Stage: smtptest.Rcpt, Match: "^busy@", Code: 450, Enhanced: [3]int{4, 2, 1}, Message: "try later"},
		smtptest.Fault{Stage: smtptest.Rcpt, Match: "^dead@", Code: 550, Enhanced: [3]int{5, 1, 1}, Message: "no such user"},
	)
	res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	first := res.Last().Campaign
	if first.Deferred != 1 || first.Failed != 1 || first.Sent != 1 {
		t.Fatalf("first run: %+v", first)
	}

	// The fault clears; a new article is published; the next digest.
	srv.SetFaults()
	addArticle(t, s, "week-two", "2026-11-29")
	res, err = s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -2)})
	if err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("busy@example.org"); n != 2 {
		t.Errorf("busy@ received %d, want 2 (the deferred retry, then the new digest)", n)
	}
	var newCampaign bool
	for _, r := range res.Runs {
		if r.Campaign.ID != first.ID {
			newCampaign = true
		}
	}
	if !newCampaign || res.NothingNew {
		t.Errorf("second digest made no new campaign for the new article (runs %d, nothing new %v, worst outcome %v): fine@ got %d messages, want 2",
			len(res.Runs), res.NothingNew, func() campaign.Outcome { o, _ := res.Worst(); return o }(), srv.Count("fine@example.org"))
	}
}

// TestAttack_DeferredUnsubscribedMeanwhile: a deferred delivery whose reader
// unsubscribes before the retry is not sent, and says why.
func TestAttack_DeferredUnsubscribedMeanwhile(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	addReaders(t, s, reader{email: "busy@example.org"}, reader{email: "fine@example.org"})
	addArticle(t, s, "week-one", "2026-11-27")
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^busy@", Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "later"})
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	srv.SetFaults()
	if _, err := s.DB.SetSubscriberStatus(ctx, "busy@example.org", newsletter.StatusUnsubscribed); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("busy@example.org"); n != 0 {
		t.Errorf("unsubscribed reader received %d", n)
	}
	for _, d := range deliveries(t, s, 1) {
		if d.Email == "busy@example.org" && d.Status != newsletter.DeliveryFailed {
			t.Errorf("busy@: %s (%s)", d.Status, d.Error)
		}
	}
}

// TestAttack_QueueLifetimeBoundary: a deferred delivery of a campaign created
// exactly lifetime ago, and one second over it.
func TestAttack_QueueLifetimeBoundary(t *testing.T) {
	for _, tc := range []struct {
		after   time.Duration
		expired int
	}{{72 * time.Hour, 0}, {72*time.Hour + time.Second, 1}} {
		ctx := context.Background()
		srv := smtptest.Start(t)
		tr, _ := mailer.ParseTransport(srv.URL(), "")
		s := newService(t, tr)
		addReaders(t, s, reader{email: "busy@example.org"})
		addArticle(t, s, "week-one", "2026-11-27")
		srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Code: 451, Enhanced: [3]int{4, 3, 0}, Message: "later"})
		if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
			t.Fatal(err)
		}
		now := fixedNow.Add(tc.after)
		s.Now, s.DB.Now = func() time.Time { return now }, func() time.Time { return now }
		res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
		if err != nil {
			t.Fatal(err)
		}
		if res.Expired != tc.expired {
			t.Errorf("after %v: expired %d, want %d", tc.after, res.Expired, tc.expired)
		}
	}
}

// TestAttack_TwoCampaignsWithDeferred: two campaigns of a list hold a
// deferred delivery each; the next run retries both, each once, then makes
// the new campaign.
func TestAttack_TwoCampaignsWithDeferred(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	addReaders(t, s, reader{email: "busy@example.org"}, reader{email: "fine@example.org"})
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^busy@", Code: 452, Enhanced: [3]int{4, 2, 2}, Message: "mailbox full"})
	addArticle(t, s, "week-one", "2026-11-20")
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -14)}); err != nil {
		t.Fatal(err)
	}
	addArticle(t, s, "week-two", "2026-11-27")
	res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -14)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 {
		t.Fatalf("second digest: %d runs", len(res.Runs))
	}
	srv.SetFaults()
	addArticle(t, s, "week-three", "2026-11-29")
	if _, err = s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -14)}); err != nil {
		t.Fatal(err)
	}
	if n := srv.Count("busy@example.org"); n != 3 {
		t.Errorf("busy@ received %d, want 3 (two retried, one new)", n)
	}
	if n := srv.Count("fine@example.org"); n != 3 {
		t.Errorf("fine@ received %d, want 3", n)
	}
	for id := int64(1); id <= 3; id++ {
		for _, d := range deliveries(t, s, id) {
			if d.Status != newsletter.DeliverySent {
				t.Errorf("campaign %d %s: %s (%s)", id, d.Email, d.Status, d.Error)
			}
		}
	}
}
