package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

// TestMigration0005_OneFormPerMailbox upgrades a version-4 database that
// holds one mailbox under two spellings of its domain: the rows become one,
// with every list, the status that mails least and the log; the old ids
// (and so the links in old mails) still find that person.
func TestMigration0005_OneFormPerMailbox(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v4.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 4)
	if err != nil {
		t.Fatal(err)
	}
	old.Close()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	const now = "2026-11-01T00:00:00.000000000Z"
	for _, q := range []string{
		`INSERT INTO lists (id, name, created_at) VALUES (1, 'newsletter', '` + now + `'), (2, 'members', '` + now + `')`,
		`INSERT INTO subscribers (id, email, status, status_changed_at, created_at, updated_at) VALUES
			(1, 'reader@bücher.example', 'active', '` + now + `', '` + now + `', '` + now + `'),
			(2, 'reader@xn--bcher-kva.example', 'unsubscribed', '` + now + `', '` + now + `', '` + now + `'),
			(3, 'solo@bücher.example', 'active', '` + now + `', '` + now + `', '` + now + `'),
			(4, 'plain@example.org', 'active', '` + now + `', '` + now + `', '` + now + `')`,
		`INSERT INTO list_members (list_id, subscriber_id, created_at) VALUES (1, 1, '` + now + `'), (2, 2, '` + now + `'), (1, 3, '` + now + `'), (1, 4, '` + now + `')`,
		`INSERT INTO campaigns (id, kind, list_id, key, status, created_at) VALUES (1, 'digest', 1, 'k', 'done', '` + now + `')`,
		`INSERT INTO deliveries (campaign_id, subscriber_id, email, status, updated_at) VALUES (1, 1, 'reader@bücher.example', 'sent', '` + now + `'),
			(1, 2, 'reader@xn--bcher-kva.example', 'sent', '` + now + `'), (1, 3, 'solo@bücher.example', 'sent', '` + now + `')`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	raw.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, err := db.Subscribers(ctx, newsletter.SubscriberFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range all {
		got = append(got, s.Email+" "+s.Status+" "+strings.Join(s.Lists, "+"))
	}
	want := "plain@example.org active newsletter|reader@xn--bcher-kva.example unsubscribed members+newsletter|solo@xn--bcher-kva.example active newsletter"
	if strings.Join(got, "|") != want {
		t.Fatalf("after the upgrade:\n got %s\nwant %s", strings.Join(got, "|"), want)
	}
	for id, email := range map[int64]string{1: "reader@xn--bcher-kva.example", 2: "reader@xn--bcher-kva.example", 3: "solo@xn--bcher-kva.example", 4: "plain@example.org"} {
		if s, err := db.SubscriberByID(ctx, id); err != nil || s.Email != email {
			t.Errorf("id %d (its old links) finds %v, %v; want %s", id, s, err, email)
		}
	}
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: 1})
	var log []string
	for _, d := range ds {
		log = append(log, fmt.Sprint(d.SubscriberID, " ", d.Email))
	}
	// One campaign had both spellings: that row keeps its own.
	if got := strings.Join(log, "|"); got != "2 reader@bücher.example|2 reader@xn--bcher-kva.example|3 solo@xn--bcher-kva.example" {
		t.Fatalf("the log after the upgrade: %s", got)
	}
}

// TestSubscriberIDsAreNotReused: the id of a removed subscriber, the highest
// one included, is not given to the next.
func TestSubscriberIDsAreNotReused(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	seen := map[int64]bool{}
	for i := 0; i < 50; i++ {
		email := "r" + strings.Repeat("x", i) + "@example.org"
		if _, err := db.AddSubscriber(ctx, &newsletter.SubscriberInput{Email: email}, nil, false); err != nil {
			t.Fatal(err)
		}
		s := mustSubscriber(t, db, email)
		if seen[s.ID] || s.ID <= 0 {
			t.Fatalf("id %d given twice", s.ID)
		}
		seen[s.ID] = true
		if _, err := db.RemoveSubscriber(ctx, email); err != nil {
			t.Fatal(err)
		}
	}
	// Another database's ids differ too (but for a 2^-30 chance), so its
	// links, signed with the same secret, find nobody here.
	other := MustOpenDB(t)
	other.AddSubscriber(ctx, &newsletter.SubscriberInput{Email: "first@example.org"}, nil, false)
	db.AddSubscriber(ctx, &newsletter.SubscriberInput{Email: "first@example.org"}, nil, false)
	if a, b := mustSubscriber(t, db, "first@example.org"), mustSubscriber(t, other, "first@example.org"); a.ID == b.ID {
		t.Fatalf("two databases gave the same id %d", a.ID)
	}
}

// TestSuppression: a removed unsubscriber is remembered as a hash, not as
// the address; --forget drops it and the address in the log.
func TestSuppression(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email,status\nleft@example.org,unsubscribed\nbounced@example.org,bounced\nactive@example.org,\n", newsletter.ImportOptions{})
	for _, e := range []string{"left@example.org", "bounced@example.org", "active@example.org"} {
		if _, err := db.RemoveSubscriber(ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	importCSV(t, db, "email\nleft@example.org\nbounced@example.org\nactive@example.org\n", newsletter.ImportOptions{})
	for e, want := range map[string]string{"left@example.org": "unsubscribed", "bounced@example.org": "bounced", "active@example.org": "active"} {
		if s := mustSubscriber(t, db, e); s.Status != want {
			t.Errorf("%s re-imported as %s, want %s", e, s.Status, want)
		}
	}
	for e, want := range map[string]string{"left@example.org": "unsubscribed", "active@example.org": "", "nobody@example.org": ""} {
		if got, err := db.Suppressed(ctx, e); err != nil || got != want {
			t.Errorf("Suppressed(%s) = %q, %v; want %q", e, got, err, want)
		}
	}
	db.RemoveSubscriber(ctx, "bounced@example.org")
	if got, _ := db.Suppressed(ctx, "bounced@example.org"); got != "bounced" {
		t.Errorf("Suppressed of a removed bounced address = %q", got)
	}
	if err := db.ForgetSubscriber(ctx, "left@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := db.ForgetSubscriber(ctx, "left@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Fatalf("forgetting twice: %v", err)
	}
	importCSV(t, db, "email\nleft@example.org\n", newsletter.ImportOptions{})
	if s := mustSubscriber(t, db, "left@example.org"); s.Status != "active" {
		t.Errorf("after --forget nothing should hold the address back: %s", s.Status)
	}
}
