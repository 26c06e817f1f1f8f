package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

// TestRecordBounce: an event is stored once per (delivery, kind), whatever
// report (source) it comes from;
// decide sees the state and its effect is applied in the same transaction;
// a report seen before is not decided again.
func TestRecordBounce(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email\nreader@example.org\n", newsletter.ImportOptions{})
	db.UpsertArticles(ctx, []*newsletter.Article{article("a", "A", "2026-11-20")})
	since, _ := time.Parse(newsletter.DateLayout, "2026-11-01")
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "d1", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
	d := ds[0]
	db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{{DeliveryID: d.ID, SubscriberID: d.SubscriberID, Status: newsletter.DeliverySent, MessageID: "<m1@example.org>"}})

	got, err := db.DeliveryByMessageID(ctx, "m1@example.org")
	if err != nil || got.ID != d.ID {
		t.Fatalf("DeliveryByMessageID: %+v, %v", got, err)
	}
	if _, err := db.DeliveryByMessageID(ctx, "<nope@example.org>"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("unknown Message-ID: %v", err)
	}

	ev := &newsletter.BounceEvent{DeliveryID: d.ID, Kind: newsletter.BounceSoft, Source: "file", Status: "4.4.1", ReportID: "<r1@x>"}
	calls := 0
	decide := func(st newsletter.BounceState) newsletter.BounceEffect {
		calls++
		if st.CampaignID != c.ID || st.DeliveryStatus != "sent" || st.SubscriberStatus != "active" || st.SoftCampaigns != 1 {
			t.Errorf("state %+v", st)
		}
		return newsletter.BounceEffect{DeliveryStatus: newsletter.DeliveryBounced}
	}
	eff, isNew, err := db.RecordBounce(ctx, ev, decide)
	if err != nil || !isNew || eff.DeliveryStatus != "bounced" {
		t.Fatalf("first: %+v %v %v", eff, isNew, err)
	}
	if _, isNew, err := db.RecordBounce(ctx, ev, decide); err != nil || isNew || calls != 1 {
		t.Errorf("again: new %v, %v, decide called %d times", isNew, err, calls)
	}
	other := *ev
	other.ReportID, other.Source = "ses:fb-1", "ses"
	if _, isNew, err := db.RecordBounce(ctx, &other, decide); err != nil || isNew || calls != 1 {
		t.Errorf("the same bounce from another source: new %v, %v, decide called %d times", isNew, err, calls)
	}
	recs, _ := db.BounceRecords(ctx, newsletter.BounceFilter{CampaignID: c.ID})
	if len(recs) != 1 || recs[0].Effect.DeliveryStatus != "bounced" || recs[0].Email != "reader@example.org" || recs[0].Status != "4.4.1" {
		t.Errorf("records %+v", recs)
	}
	if _, _, err := db.RecordBounce(ctx, &newsletter.BounceEvent{DeliveryID: 999, Kind: "hard", ReportID: "x"}, decide); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("unknown delivery: %v", err)
	}
	b, ok, err := db.LastCampaignBounces(ctx, "newsletter")
	if err != nil || !ok || b.Bounced != 1 || b.Accepted != 1 {
		t.Errorf("LastCampaignBounces: %+v %v %v", b, ok, err)
	}
}

// TestMigration0008 upgrades a version-7 database.
func TestMigration0008(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 7)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(ctx); v < 8 {
		t.Errorf("version %d", v)
	}
	if _, err := db.BounceRecords(ctx, newsletter.BounceFilter{}); err != nil {
		t.Error(err)
	}
}
