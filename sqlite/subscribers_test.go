package sqlite_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
)

func importCSV(tb testing.TB, db *sqlite.DB, src string, opts newsletter.ImportOptions) (newsletter.ImportCounts, []string, error) {
	tb.Helper()
	rd, err := subscribers.NewReader(strings.NewReader(src))
	if err != nil {
		tb.Fatal(err)
	}
	var rejected []string
	opts.OnReject = func(err error) { rejected = append(rejected, err.Error()) }
	counts, err := db.ImportSubscribers(context.Background(), rd.Inputs(), opts)
	return counts, rejected, err
}

func mustSubscriber(tb testing.TB, db *sqlite.DB, email string) *newsletter.Subscriber {
	tb.Helper()
	s, err := db.SubscriberByEmail(context.Background(), email)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestImportSubscribers_AwkwardFixture(t *testing.T) {
	db := MustOpenDB(t)
	src, err := os.ReadFile("../subscribers/testdata/awkward.csv")
	if err != nil {
		t.Fatal(err)
	}
	counts, rejected, err := importCSV(t, db, string(src), newsletter.ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if want := (newsletter.ImportCounts{Added: 3, Updated: 1, Rejected: 4}); counts != want {
		t.Errorf("counts = %+v, want %+v", counts, want)
	}
	if len(rejected) != 4 || !strings.HasPrefix(rejected[0], "line 5:") {
		t.Errorf("rejected = %q", rejected)
	}
	ana := mustSubscriber(t, db, "ana@example.org")
	if ana.Name != "Ana Silva" || !reflect.DeepEqual(ana.Categories, []string{"Top Stories"}) ||
		!reflect.DeepEqual(ana.Lists, []string{"members", "newsletter"}) || ana.Status != "active" {
		t.Errorf("ana = %+v (the duplicate row updates the first)", ana)
	}
	ben := mustSubscriber(t, db, "ben@example.org")
	if ben.Status != "active" || !reflect.DeepEqual(ben.Lists, []string{"newsletter"}) {
		t.Errorf("ben = %+v (no lists: the default list)", ben)
	}
	if chloe := mustSubscriber(t, db, "chloe@example.org"); chloe.Status != "unsubscribed" {
		t.Errorf("chloe = %+v", chloe)
	}
}

func TestImportSubscribers_Strict(t *testing.T) {
	db := MustOpenDB(t)
	_, rejected, err := importCSV(t, db, "email,name\nana@example.org,Ana\nbad,Bad\nben@example.org,Ben\nworse@,W\n", newsletter.ImportOptions{Strict: true})
	if newsletter.ErrorCode(err) != newsletter.EINVALID {
		t.Fatalf("err = %v", err)
	}
	if len(rejected) != 2 {
		t.Errorf("every bad row is reported: %q", rejected)
	}
	if all, _ := db.Subscribers(context.Background(), newsletter.SubscriberFilter{}); len(all) != 0 {
		t.Errorf("strict import stored %d subscribers", len(all))
	}
	if lists, _ := db.Lists(context.Background()); len(lists) != 0 {
		t.Errorf("strict import stored lists %+v", lists)
	}
}

func TestImportSubscribers_NeverReactivates(t *testing.T) {
	ctx := context.Background()
	for _, status := range []string{"unsubscribed", "bounced", "complained"} {
		t.Run(status, func(t *testing.T) {
			db := MustOpenDB(t)
			importCSV(t, db, "email,status\nana@example.org,"+status+"\n", newsletter.ImportOptions{})
			for _, again := range []string{"email,status\nana@example.org,active\n", "email,status\nana@example.org,unconfirmed\n", "email\nana@example.org\n"} {
				if _, _, err := importCSV(t, db, again, newsletter.ImportOptions{}); err != nil {
					t.Fatal(err)
				}
				if s := mustSubscriber(t, db, "ana@example.org"); s.Status != status {
					t.Fatalf("re-import %q made %s %s", again, status, s.Status)
				}
			}
			// add without --resubscribe is refused; with it, active again.
			in := &newsletter.SubscriberInput{Email: "ana@example.org"}
			if _, err := db.AddSubscriber(ctx, in, nil, false); newsletter.ErrorCode(err) != newsletter.ECONFLICT {
				t.Fatalf("add without --resubscribe: %v", err)
			}
			if _, err := db.AddSubscriber(ctx, in, nil, true); err != nil {
				t.Fatal(err)
			}
			if s := mustSubscriber(t, db, "ana@example.org"); s.Status != "active" {
				t.Fatalf("--resubscribe left %s", s.Status)
			}
		})
	}
	t.Run("ActiveMayLeave", func(t *testing.T) {
		db := MustOpenDB(t)
		importCSV(t, db, "email\nana@example.org\n", newsletter.ImportOptions{})
		importCSV(t, db, "email,status\nana@example.org,unsubscribed\n", newsletter.ImportOptions{})
		if s := mustSubscriber(t, db, "ana@example.org"); s.Status != "unsubscribed" {
			t.Fatalf("status = %s", s.Status)
		}
	})
}

func TestImportSubscribers_Updates(t *testing.T) {
	db := MustOpenDB(t)
	importCSV(t, db, "email,name,categories,lists\nana@example.org,Ana,Parks;Events,a\n", newsletter.ImportOptions{})
	counts, _, _ := importCSV(t, db, "email,name,categories,lists\nana@example.org,Ana,Parks;Events,a\n", newsletter.ImportOptions{})
	if counts.Unchanged != 1 {
		t.Errorf("same row again: %+v", counts)
	}
	// A file without a categories column leaves categories alone; lists
	// are added to.
	counts, _, _ = importCSV(t, db, "email,lists\nana@example.org,b\n", newsletter.ImportOptions{Lists: []string{"c"}})
	if counts.Updated != 1 {
		t.Errorf("new list: %+v", counts)
	}
	ana := mustSubscriber(t, db, "ana@example.org")
	if !reflect.DeepEqual(ana.Categories, []string{"Parks", "Events"}) || !reflect.DeepEqual(ana.Lists, []string{"a", "b", "c"}) || ana.Name != "Ana" {
		t.Errorf("ana = %+v", ana)
	}
	// An empty categories cell means every category.
	importCSV(t, db, "email,categories\nana@example.org,\n", newsletter.ImportOptions{})
	if ana := mustSubscriber(t, db, "ana@example.org"); len(ana.Categories) != 0 {
		t.Errorf("categories = %q", ana.Categories)
	}
}

func TestRemoveAndUnsubscribe(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email,categories\nana@example.org,Parks\nben@example.org,\n", newsletter.ImportOptions{})
	if changed, err := db.SetSubscriberStatus(ctx, "ana@example.org", "unsubscribed"); err != nil || !changed {
		t.Fatal(changed, err)
	}
	if changed, _ := db.SetSubscriberStatus(ctx, "ana@example.org", "unsubscribed"); changed {
		t.Error("second unsubscribe reported a change")
	}
	if _, err := db.RemoveSubscriber(ctx, "ben@example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RemoveSubscriber(ctx, "ben@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("second remove: %v", err)
	}
	lists, _ := db.Lists(ctx)
	if len(lists) != 1 || lists[0].Members != 1 || lists[0].Active != 0 {
		t.Errorf("lists = %+v", lists)
	}
}

// TestExportImportRoundTrip generates subscribers, exports them and imports
// the CSV into an empty database: the two hold the same subscribers.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	cats := []string{"Parks", "Top Stories", "Housing", "Transport", "Café Culture", `Q"uoted, Cat`}
	lists := []string{"newsletter", "members", "press.list", "x_y"}
	names := []string{"", "Ana Silva", "Silva, Ana", `Ana "Nana" Silva`, "Zoë Ødegård", "李小龙"}
	for seed := uint64(1); seed <= 20; seed++ {
		r := rand.New(rand.NewPCG(seed, seed))
		n := 1 + r.IntN(40)
		var w bytes.Buffer
		sw, _ := subscribers.NewWriter(&w)
		for i := 0; i < n; i++ {
			s := &newsletter.Subscriber{
				Email:  fmt.Sprintf("user%d.%d@example%d.org", seed, i, r.IntN(3)),
				Name:   names[r.IntN(len(names))],
				Status: newsletter.Statuses[r.IntN(len(newsletter.Statuses))],
			}
			for _, c := range r.Perm(len(cats))[:r.IntN(4)] {
				s.Categories = append(s.Categories, cats[c])
			}
			for _, l := range r.Perm(len(lists))[:1+r.IntN(3)] {
				s.Lists = append(s.Lists, lists[l])
			}
			sw.Write(s)
		}
		sw.Flush()

		db1, db2 := MustOpenDB(t), MustOpenDB(t)
		if _, rej, err := importCSV(t, db1, w.String(), newsletter.ImportOptions{}); err != nil || len(rej) > 0 {
			t.Fatalf("seed %d: import: %v %q", seed, err, rej)
		}
		var out bytes.Buffer
		ew, _ := subscribers.NewWriter(&out)
		if err := db1.EachSubscriber(ctx, newsletter.SubscriberFilter{}, ew.Write); err != nil {
			t.Fatal(err)
		}
		ew.Flush()
		if _, rej, err := importCSV(t, db2, out.String(), newsletter.ImportOptions{}); err != nil || len(rej) > 0 {
			t.Fatalf("seed %d: re-import: %v %q", seed, err, rej)
		}
		a, _ := db1.Subscribers(ctx, newsletter.SubscriberFilter{})
		c, _ := db2.Subscribers(ctx, newsletter.SubscriberFilter{})
		if len(a) != n || len(a) != len(c) {
			t.Fatalf("seed %d: %d generated, %d stored, %d after round trip", seed, n, len(a), len(c))
		}
		for i := range a {
			x, y := a[i], c[i]
			if x.Email != y.Email || x.Name != y.Name || x.Status != y.Status || !reflect.DeepEqual(x.Categories, y.Categories) || !reflect.DeepEqual(x.Lists, y.Lists) {
				t.Fatalf("seed %d: round trip changed\n%+v\n%+v", seed, x, y)
			}
		}
		cats1, _ := db1.Categories(ctx)
		cats2, _ := db2.Categories(ctx)
		if !reflect.DeepEqual(cats1, cats2) {
			t.Fatalf("seed %d: categories %v vs %v", seed, cats1, cats2)
		}
	}
}

func TestSubscriberFilters(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email,categories,lists,status\na@example.org,Parks,x,active\nb@example.org,,y,active\nc@example.org,Housing,x,bounced\n", newsletter.ImportOptions{})
	emails := func(f newsletter.SubscriberFilter) string {
		ss, err := db.Subscribers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, s := range ss {
			out = append(out, s.Email[:1])
		}
		return strings.Join(out, "")
	}
	for _, tc := range []struct {
		f    newsletter.SubscriberFilter
		want string
	}{
		{newsletter.SubscriberFilter{}, "abc"},
		{newsletter.SubscriberFilter{List: "x"}, "ac"},
		{newsletter.SubscriberFilter{Category: "parks"}, "ab"}, // b takes every category
		{newsletter.SubscriberFilter{Status: "bounced"}, "c"},
		{newsletter.SubscriberFilter{List: "x", Category: "Housing"}, "c"},
	} {
		if got := emails(tc.f); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

func TestPrepareResumeAndRemoveKeepsLog(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	importCSV(t, db, "email\na@example.org\nb@example.org\nc@example.org\n", newsletter.ImportOptions{})
	a := article("x", "X", "2025-03-04")
	db.UpsertArticles(ctx, []*newsletter.Article{a})
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: "newsletter", Key: "k", ArticleIDs: []int64{a.ID}})
	if err != nil || c.Recipients != 3 || c.Pending != 3 {
		t.Fatalf("campaign %+v %v", c, err)
	}
	ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
	// a was sent, b was in flight when the sender died, c never started.
	db.WriteDeliveries(ctx, []newsletter.DeliveryUpdate{
		{DeliveryID: ds[0].ID, Status: "sent", Attempts: 1, Code: 250, MessageID: "<1@x>"},
		{DeliveryID: ds[1].ID, Status: "sending", Attempts: 0, MessageID: "<2@x>"},
	})
	if _, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: "newsletter", Key: "k2", ArticleIDs: []int64{a.ID}}); newsletter.ErrorCode(err) != newsletter.ECONFLICT {
		t.Fatalf("a second campaign while one is unfinished: %v", err)
	}
	n, err := db.PrepareResume(ctx, c.ID, false)
	if err != nil || n != 1 {
		t.Fatalf("unknown = %d, %v", n, err)
	}
	status := func() string {
		ds, _ := db.Deliveries(ctx, newsletter.DeliveryFilter{CampaignID: c.ID})
		var s []string
		for _, d := range ds {
			s = append(s, d.Status)
		}
		return strings.Join(s, ",")
	}
	if got := status(); got != "sent,unknown,pending" {
		t.Fatalf("after resume: %s", got)
	}
	if n, _ := db.PrepareResume(ctx, c.ID, true); n != 0 || status() != "sent,pending,pending" {
		t.Fatalf("--resend-unknown: %d unknown, %s", n, status())
	}
	// Removing a subscriber keeps the log's rows, with the address.
	if _, err := db.RemoveSubscriber(ctx, "a@example.org"); err != nil {
		t.Fatal(err)
	}
	ds, _ = db.Deliveries(ctx, newsletter.DeliveryFilter{Email: "a@example.org"})
	if len(ds) != 1 || ds[0].Status != "sent" || ds[0].SubscriberID != 0 || ds[0].MessageID != "<1@x>" {
		t.Fatalf("log after remove: %+v", ds)
	}
}
