package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/example/newsletter"
)

// TestWriteDeliveries_WaitsOutALock: another process that holds the write
// lock longer than the busy timeout (a long import) delays the delivery
// log; it does not stop it with "database is locked".
func TestWriteDeliveries_WaitsOutALock(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a lock for 12 s")
	}
	t.Parallel()
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email\nreader@example.org\n", newsletter.ImportOptions{})
	db.UpsertArticles(ctx, []*newsletter.Article{article("a", "A", "2026-11-20")})
	since, _ := time.Parse(newsletter.DateLayout, "2026-11-01")
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindDigest, List: "newsletter", Key: "k", Since: since})
	if err != nil {
		t.Fatal(err)
	}
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})

	other, err := sql.Open("sqlite3", "file:"+db.Path+"?_busy_timeout=1000")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	released := make(chan struct{})
	go func() {
		time.Sleep(12 * time.Second) // longer than the store's 10 s busy timeout
		conn.ExecContext(ctx, "ROLLBACK")
		conn.Close()
		close(released)
	}()
	start := time.Now()
	_, err = db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{{DeliveryID: ds[0].ID, SubscriberID: ds[0].SubscriberID, Status: newsletter.DeliverySending, MessageID: "<m@x>"}})
	<-released
	if err != nil {
		t.Fatalf("after %s: %v", time.Since(start), err)
	}
	if got, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID}); got[0].Status != newsletter.DeliverySending {
		t.Fatalf("status %s", got[0].Status)
	}
}
