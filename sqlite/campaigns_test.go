package sqlite_test

import (
	"context"
	"errors"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

func recipients(t *testing.T, db *sqlite.DB, id int64) string {
	t.Helper()
	ds, err := db.Deliveries(context.Background(), newsletter.DeliveryFilter{CampaignID: id})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, d := range ds {
		out = append(out, strings.TrimSuffix(d.Email, "@example.org"))
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func slugs(as []*newsletter.Article) string {
	var out []string
	for _, a := range as {
		out = append(out, a.Slug)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// TestCreateDigest covers who and what a digest takes: articles since a
// date and in no earlier digest of the list, members whose categories meet
// them (none = all), active members of that list only.
func TestCreateDigest(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, `email,categories,lists,status
parks@example.org,Parks,newsletter,active
bus@example.org,Transport,newsletter,active
all@example.org,,newsletter,active
gone@example.org,,newsletter,unsubscribed
other@example.org,,press,active
`, newsletter.ImportOptions{})
	db.UpsertArticles(ctx, []*newsletter.Article{
		article("old-parks", "Old", "2026-10-01", "Parks"),
		article("new-parks", "New Parks", "2026-11-20", "Parks"),
		article("plain", "No Category", "2026-11-21"),
	})
	since, _ := time.Parse(newsletter.DateLayout, "2026-11-01")
	cands, err := db.DigestCandidates(ctx, "newsletter", since, nil)
	if err != nil || slugs(cands) != "new-parks,plain" {
		t.Fatalf("candidates = %s, %v", slugs(cands), err)
	}
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "d1", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	// bus takes Transport only: neither article; the uncategorised one
	// reaches only readers of every category.
	if got := recipients(t, db, c.ID); got != "all,parks" {
		t.Errorf("recipients = %s", got)
	}
	if c.Articles != 2 || c.Recipients != 2 || c.Status != "sending" {
		t.Errorf("campaign = %+v", c)
	}
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
	var ups []newsletter.DeliveryUpdate
	for _, d := range ds {
		ups = append(ups, newsletter.DeliveryUpdate{DeliveryID: d.ID, Status: "sent", Attempts: 1, Code: 250})
	}
	db.WriteDeliveries(ctx, ups)
	if done, _ := db.FinishCampaign(ctx, c.ID); !done {
		t.Fatal("not done")
	}

	// The same articles never go into a second digest of this list...
	if _, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "d2", Since: since}); !errors.Is(err, newsletter.ErrNothingNew) {
		t.Fatalf("second digest: %v", err)
	}
	// ...but another list gets them.
	c2, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "press", Key: "p1", Since: since})
	if err != nil || recipients(t, db, c2.ID) != "other" {
		t.Fatalf("press digest: %v", err)
	}

	t.Run("CategoryRestriction", func(t *testing.T) {
		db.UpsertArticles(ctx, []*newsletter.Article{
			article("bus-news", "Bus", "2026-11-22", "Transport"),
			article("park-news", "Park", "2026-11-22", "Parks"),
		})
		cands, _ := db.DigestCandidates(ctx, "newsletter", since, []string{"transport"})
		if slugs(cands) != "bus-news" {
			t.Fatalf("candidates = %s", slugs(cands))
		}
		c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "d3", Since: since, Categories: []string{"Transport"}})
		if err != nil {
			t.Fatal(err)
		}
		if got := recipients(t, db, c.ID); got != "all,bus" {
			t.Errorf("recipients = %s", got)
		}
		// park-news is still a candidate for the next digest.
		if _, err := db.PrepareResume(ctx, c.ID, false); err != nil {
			t.Fatal(err)
		}
		cands, _ = db.DigestCandidates(ctx, "newsletter", since, nil)
		if slugs(cands) != "park-news" {
			t.Errorf("left for later = %s", slugs(cands))
		}
	})
	t.Run("ErrNoList", func(t *testing.T) {
		if _, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "nope", Key: "x"}); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			t.Errorf("err = %v", err)
		}
	})
}

func TestScheduleRunsRecordedOnce(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email\na@example.org\n", newsletter.ImportOptions{})
	since, _ := time.Parse(newsletter.DateLayout, "2026-11-01")
	spec := newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "s1", Since: since, Schedule: "weekly", Period: "2026-11-30T09:00:00Z"}
	// Nothing new: recorded, no campaign.
	if _, err := db.CreateCampaign(ctx, spec); !errors.Is(err, newsletter.ErrNothingNew) {
		t.Fatal(err)
	}
	if ran, _ := db.ScheduleRan(ctx, "weekly", spec.Period); !ran {
		t.Fatal("a period with nothing new was not recorded")
	}
	db.UpsertArticles(ctx, []*newsletter.Article{article("a", "A", "2026-11-20")})
	if _, err := db.CreateCampaign(ctx, spec); newsletter.ErrorCode(err) != newsletter.ECONFLICT {
		t.Fatalf("the same period again: %v", err)
	}
	spec.Period, spec.Key = "2026-12-07T09:00:00Z", "s2"
	c, err := db.CreateCampaign(ctx, spec)
	if err != nil || c.Recipients != 1 {
		t.Fatalf("next period: %+v %v", c, err)
	}
	if last, _ := db.LastSchedulePeriod(ctx, "weekly"); last != spec.Period {
		t.Errorf("last period = %s", last)
	}
}

func TestWriteDeliveries_Claims(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email\na@example.org\nb@example.org\n", newsletter.ImportOptions{})
	a := article("x", "X", "2026-11-20")
	db.UpsertArticles(ctx, []*newsletter.Article{a})
	c, _ := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: "newsletter", Key: "k", ArticleIDs: []int64{a.ID}})
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
	da, dbb := ds[0].ID, ds[1].ID
	lost, err := db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{
		{DeliveryID: da, Status: "sending", MessageID: "<1@x>"},
		{DeliveryID: da, Status: "sending", MessageID: "<2@x>"}, // a second claim of the same row
	})
	if err != nil || len(lost) != 1 || lost[0] != da {
		t.Fatalf("lost = %v, %v", lost, err)
	}
	db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{{DeliveryID: da, Status: "sent", Code: 250, Attempts: 1}})
	// Nothing changes a sent delivery; an unclaimed result needs a pending one.
	db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{
		{DeliveryID: da, Status: "failed", Code: 550, Error: "late"},
		{DeliveryID: da, Status: "pending"},
		{DeliveryID: dbb, Status: "failed", Error: "skipped", Unclaimed: true},
	})
	ds, _ = db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
	if ds[0].Status != "sent" || ds[0].MessageID != "<1@x>" || ds[1].Status != "failed" {
		t.Fatalf("deliveries = %+v %+v", ds[0], ds[1])
	}
	if lost, _ := db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{{DeliveryID: dbb, Status: "sending"}}); len(lost) != 1 {
		t.Fatalf("a failed delivery was claimed: %v", lost)
	}
}
