package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/internal/smtptest"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/schedule"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

// fixedNow is the clock of these tests: a Monday after 09:00 in London.
var fixedNow = time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC)

// newService returns a service on a fresh database file that sends to
// transport.
func newService(t *testing.T, transport mailer.Transport) *campaign.Service {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "newsletter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return fixedNow }
	r, err := templates.New(templates.Site{Name: "Millbrook Trust", URL: "https://millbrook.example"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mailer.NewBuilder("Millbrook Trust <news@millbrook.example>", "Millbrook Trust")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	return &campaign.Service{DB: db, Renderer: r, Builder: b, Signer: signer, Transport: transport, Options: campaign.Options{
		PublicURL: "https://news.millbrook.example", Concurrency: 2, Retries: 2, RetryBackoff: time.Millisecond,
		Now: func() time.Time { return fixedNow },
	}}
}

// reader is one subscriber to import.
type reader struct {
	email      string
	categories []string
}

func addReaders(t *testing.T, s *campaign.Service, rs ...reader) {
	t.Helper()
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for _, r := range rs {
			if !yield(&newsletter.SubscriberInput{Email: r.email, Categories: r.categories, HasCategories: true}, nil) {
				return
			}
		}
	}
	if _, err := s.DB.ImportSubscribers(context.Background(), iter.Seq2[*newsletter.SubscriberInput, error](rows), newsletter.ImportOptions{Strict: true}); err != nil {
		t.Fatal(err)
	}
}

func addArticle(t *testing.T, s *campaign.Service, slug, date string, cats ...string) *newsletter.Article {
	t.Helper()
	d, _ := time.Parse(newsletter.DateLayout, date)
	a := &newsletter.Article{Slug: slug, Title: "Title of " + slug, Date: d, Categories: cats, Body: "Body of " + slug, Summary: "About " + slug}
	a.ComputeHash()
	if _, err := s.DB.UpsertArticles(context.Background(), []*newsletter.Article{a}); err != nil {
		t.Fatal(err)
	}
	return a
}

func deliveries(t *testing.T, s *campaign.Service, id int64) []*newsletter.Delivery {
	t.Helper()
	ds, err := s.DB.Deliveries(context.Background(), newsletter.DeliveryFilter{CampaignID: id})
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

// TestEnqueueFollowsMatchArticles pins the SQL that enqueues a campaign's
// recipients to newsletter.MatchArticles: for every combination of
// categories a reader can have (none, one, several, one spelled in another
// case, one no article has) and every combination of the articles' own, a
// reader is enqueued exactly when the rule gives them an article.
func TestEnqueueFollowsMatchArticles(t *testing.T) {
	ctx := context.Background()
	readerCats := [][]string{nil, {"Parks"}, {"parks"}, {"TRANSPORT"}, {"Parks", "Transport"}, {"Housing"}, {"Events", "housing"}}
	articleCats := [][]string{{"Parks"}, {"Transport"}, {"parks", "Events"}, {}, {"Housing"}}
	// Every subset of the articles, as one article campaign each or one
	// digest of them all.
	for mask := 1; mask < 1<<len(articleCats); mask++ {
		t.Run(fmt.Sprintf("articles%05b", mask), func(t *testing.T) {
			s := newService(t, nil)
			var rs []reader
			for i, cats := range readerCats {
				rs = append(rs, reader{email: fmt.Sprintf("r%d@example.org", i), categories: cats})
			}
			addReaders(t, s, rs...)
			var arts []*newsletter.Article
			for i, cats := range articleCats {
				if mask&(1<<i) != 0 {
					arts = append(arts, addArticle(t, s, fmt.Sprintf("a%d", i), "2026-11-20", cats...))
				}
			}
			c, err := s.DB.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: newsletter.DefaultList, Key: "k", Since: fixedNow.AddDate(0, 0, -30)})
			if err != nil {
				t.Fatal(err)
			}
			var got, want []string
			for _, d := range deliveries(t, s, c.ID) {
				got = append(got, d.Email)
			}
			for _, r := range rs {
				if len(newsletter.MatchArticles(arts, r.categories)) > 0 {
					want = append(want, r.email)
				}
			}
			sort.Strings(got)
			sort.Strings(want)
			if !reflect.DeepEqual(got, want) {
				t.Errorf("enqueued %v, the rule says %v", got, want)
			}
		})
	}
}

// TestScheduledDigestEqualsHandRun: a scheduled digest and a digest by hand
// of the same articles make the same campaign row (kind, subject, articles,
// recipients).
func TestScheduledDigestEqualsHandRun(t *testing.T) {
	ctx := context.Background()
	var rows [2]*newsletter.Campaign
	var rcpts [2][]string
	for i := range rows {
		srv := smtptest.Start(t)
		tr, _ := mailer.ParseTransport(srv.URL(), "")
		s := newService(t, tr)
		addReaders(t, s, reader{email: "parks@example.org", categories: []string{"Parks"}}, reader{email: "all@example.org"}, reader{email: "housing@example.org", categories: []string{"Housing"}})
		addArticle(t, s, "meadow", "2026-11-27", "Parks")
		addArticle(t, s, "bus", "2026-11-28", "Transport")
		var res *campaign.Result
		if i == 0 {
			var err error
			res, err = s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
			if err != nil {
				t.Fatal(err)
			}
		} else {
			scheds, err := schedule.Parse([]schedule.Entry{{Name: "weekly", Cron: "0 9 * * MON", Timezone: "Europe/London", List: newsletter.DefaultList, Kind: "digest"}})
			if err != nil {
				t.Fatal(err)
			}
			ds := s.RunDue(ctx, scheds)
			if len(ds) != 1 || ds[0].Err != nil {
				t.Fatalf("decisions: %+v", ds)
			}
			res = ds[0].Result
		}
		run := res.Last()
		if run == nil || run.Outcome() != campaign.Sent {
			t.Fatalf("run %d: %+v", i, res)
		}
		rows[i] = run.Campaign
		for _, d := range deliveries(t, s, run.Campaign.ID) {
			rcpts[i] = append(rcpts[i], d.Email+":"+d.Status)
		}
	}
	hand, sched := rows[0], rows[1]
	if hand.Subject == "" || hand.Kind != sched.Kind || hand.Subject != sched.Subject || hand.Articles != sched.Articles || hand.Recipients != sched.Recipients {
		t.Errorf("by hand %+v\nscheduled %+v", hand, sched)
	}
	if !reflect.DeepEqual(rcpts[0], rcpts[1]) {
		t.Errorf("recipients by hand %v, scheduled %v", rcpts[0], rcpts[1])
	}
}

// TestLeaseLost: when another process takes the lease (this one was paused
// past its expiry), the run stops after the messages in flight, says why,
// and nothing is sent twice.
func TestLeaseLost(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 10 * time.Millisecond})
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	s.LeaseTTL = 300 * time.Millisecond
	var rs []reader
	for i := range 300 {
		rs = append(rs, reader{email: fmt.Sprintf("reader%03d@example.org", i)})
	}
	addReaders(t, s, rs...)
	addArticle(t, s, "long-send", "2026-11-27")
	// Another process takes the lease, as if this one had died, once 20
	// messages are out.
	var taken atomic.Bool
	s.Progress = progressFunc(func(string) {
		if srv.Count("") >= 20 && taken.CompareAndSwap(false, true) {
			go func() {
				if err := s.DB.AcquireLease(ctx, sqlite.Lease{Holder: "usurper", PID: 1, Host: "elsewhere"}, time.Hour, func(sqlite.Lease) bool { return true }); err != nil {
					t.Error(err)
				}
			}()
		}
	})
	_, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if !errors.Is(err, campaign.ErrLeaseLost) {
		t.Fatalf("Digest returned %v, want ErrLeaseLost", err)
	}
	sent := 0
	for _, d := range deliveries(t, s, 1) {
		n := srv.Count(d.Email)
		switch {
		case n > 1:
			t.Errorf("%s received %d messages", d.Email, n)
		case d.Status == newsletter.DeliverySent && n != 1:
			t.Errorf("%s logged sent, received %d", d.Email, n)
		case d.Status == newsletter.DeliveryPending && n != 0:
			t.Errorf("%s is pending but received %d", d.Email, n)
		}
		if d.Status == newsletter.DeliverySent {
			sent++
		}
	}
	if sent == 0 || sent == 300 {
		t.Errorf("%d sent: the run should have stopped part way", sent)
	}
}

// progressFunc is a Progress that calls f for each delivery.
type progressFunc func(status string)

func (f progressFunc) Resuming(*newsletter.Campaign, int) {}
func (f progressFunc) Sending(*newsletter.Campaign, int) func(string) {
	return f
}
func (f progressFunc) Finished(*campaign.Run) {}

// TestDeferredRetriedUntilLifetime: a 450 that outlasts a run's retries
// leaves the delivery deferred, not failed, and the run exits cleanly; the
// next run, once the fault clears, delivers it exactly once before making a
// new campaign; past the queue lifetime a deferred delivery fails.
func TestDeferredRetriedUntilLifetime(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	addReaders(t, s, reader{email: "busy@example.org"}, reader{email: "fine@example.org"}, reader{email: "late@example.org"})
	addArticle(t, s, "week-one", "2026-11-27")
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^(busy|late)@", Code: 450, Enhanced: [3]int{4, 7, 1}, Message: "too much mail from 127.0.0.1"})

	res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	run := res.Last()
	if run.Outcome() != campaign.Sent || run.Campaign.Deferred != 2 || run.Campaign.Failed != 0 || run.Campaign.Sent != 1 {
		t.Fatalf("first run: outcome %v, %+v", run.Outcome(), run.Campaign)
	}
	for _, d := range deliveries(t, s, run.Campaign.ID) {
		if d.Email != "fine@example.org" && (d.Status != newsletter.DeliveryDeferred || !strings.Contains(d.Error, "450 4.7.1")) {
			t.Errorf("%s: %s (%s), want deferred with the last reply", d.Email, d.Status, d.Error)
		}
	}

	// The fault clears for one of them; a run by hand retries both at once
	// (one is sent, the other stays deferred) and, with nothing new, makes
	// no campaign.
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Rcpt, Match: "^late@", Code: 450, Enhanced: [3]int{4, 7, 1}, Message: "too much mail"})
	res, err = s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	if !res.NothingNew || len(res.Runs) != 1 || !res.Runs[0].Resumed {
		t.Fatalf("second run: %+v", res)
	}
	if n := srv.Count("busy@example.org"); n != 1 {
		t.Errorf("busy@ received %d messages, want 1", n)
	}
	if n := srv.Count("fine@example.org"); n != 1 {
		t.Errorf("fine@ received %d messages, want 1", n)
	}

	// Past the lifetime the last one fails for good.
	s.Now = func() time.Time { return fixedNow.Add(73 * time.Hour) }
	s.DB.Now = s.Now
	res, err = s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Expired != 1 {
		t.Errorf("expired %d, want 1", res.Expired)
	}
	for _, d := range deliveries(t, s, 1) {
		want := newsletter.DeliverySent
		if d.Email == "late@example.org" {
			want = newsletter.DeliveryFailed
		}
		if d.Status != want {
			t.Errorf("%s: %s (%s), want %s", d.Email, d.Status, d.Error, want)
		}
	}
	if n := srv.Count("late@example.org"); n != 0 {
		t.Errorf("late@ received %d", n)
	}
}

// TestDatabaseReplacedStopsTheRun: a database file deleted under a running
// send stops it with an error that says so, instead of logging into a file
// nobody will read again.
func TestDatabaseReplacedStopsTheRun(t *testing.T) {
	ctx := context.Background()
	srv := smtptest.Start(t)
	srv.SetFaults(smtptest.Fault{Stage: smtptest.Data, Delay: 5 * time.Millisecond})
	tr, _ := mailer.ParseTransport(srv.URL(), "")
	s := newService(t, tr)
	var rs []reader
	for i := range 100 {
		rs = append(rs, reader{email: fmt.Sprintf("reader%03d@example.org", i)})
	}
	addReaders(t, s, rs...)
	addArticle(t, s, "long-send", "2026-11-27")
	var removed atomic.Bool
	s.Progress = progressFunc(func(string) {
		if srv.Count("") >= 10 && removed.CompareAndSwap(false, true) {
			if err := os.Remove(s.DB.Path); err != nil {
				t.Error(err)
			}
		}
	})
	res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err == nil {
		if _, run := res.Worst(); run != nil {
			err = run.Err
		}
	}
	if !errors.Is(err, sqlite.ErrReplaced) {
		t.Fatalf("err = %v, want ErrReplaced", err)
	}
	if n := srv.Count(""); n >= 100 {
		t.Errorf("the send went on to the end (%d messages)", n)
	}
}
