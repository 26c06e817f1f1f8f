package bounces_test

import (
	"context"
	"iter"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/bounces"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

var testNow = time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC)

const testSecret = "abababababababababababababababababababababababababababababababab"

// env is a database, the VERP scheme and a processor over it.
type env struct {
	db   *sqlite.DB
	verp *bounces.VERP
	proc *bounces.Processor
	path string
}

func openDB(tb testing.TB, path string) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return testNow }
	return db
}

func newEnv(tb testing.TB, path string) *env {
	tb.Helper()
	if path == "" {
		path = filepath.Join(tb.TempDir(), "newsletter.db")
	}
	db := openDB(tb, path)
	signer, err := subscribers.NewSigner(testSecret)
	if err != nil {
		tb.Fatal(err)
	}
	verp, err := bounces.NewVERP("bounces@example.org", signer)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{db: db, verp: verp, path: path, proc: &bounces.Processor{Store: db, VERP: verp, Now: func() time.Time { return testNow }}}
}

// service returns a campaign service on e's database sending to
// transport, with VERP.
func (e *env) service(tb testing.TB, transport mailer.Transport) *campaign.Service {
	tb.Helper()
	r, err := templates.New(templates.Site{Name: "Example News", URL: "https://example.org"})
	if err != nil {
		tb.Fatal(err)
	}
	b, err := mailer.NewBuilder("Example News <news@example.org>", "Example News")
	if err != nil {
		tb.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(testSecret)
	return &campaign.Service{DB: e.db, Renderer: r, Builder: b, Signer: signer, Transport: transport, Options: campaign.Options{
		PublicURL: "https://news.example.org", Concurrency: 2, Retries: 1, RetryBackoff: time.Millisecond,
		Now: func() time.Time { return testNow }, VERP: e.verp,
	}}
}

// addReaders imports active readers.
func (e *env) addReaders(tb testing.TB, emails ...string) {
	tb.Helper()
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for _, em := range emails {
			if !yield(&newsletter.SubscriberInput{Email: em}, nil) {
				return
			}
		}
	}
	if _, err := e.db.ImportSubscribers(context.Background(), iter.Seq2[*newsletter.SubscriberInput, error](rows), newsletter.ImportOptions{Strict: true}); err != nil {
		tb.Fatal(err)
	}
}

func (e *env) addArticle(tb testing.TB) {
	tb.Helper()
	a := &newsletter.Article{Slug: "week-one", Title: "Week one", Date: testNow.AddDate(0, 0, -2).Truncate(24 * time.Hour), Body: "Body.", Summary: "About."}
	a.ComputeHash()
	if _, err := e.db.UpsertArticles(context.Background(), []*newsletter.Article{a}); err != nil {
		tb.Fatal(err)
	}
}

// digest sends a digest through transport and returns the campaign id.
func (e *env) digest(tb testing.TB, transport mailer.Transport) int64 {
	tb.Helper()
	res, err := e.service(tb, transport).Digest(context.Background(), campaign.DigestRequest{List: newsletter.DefaultList, Since: testNow.AddDate(0, 0, -7)})
	if err != nil {
		tb.Fatal(err)
	}
	return res.Last().Campaign.ID
}

// states returns "delivery/subscriber" statuses by address.
func (e *env) states(tb testing.TB) map[string]string {
	tb.Helper()
	ctx := context.Background()
	ds, err := e.db.Deliveries(ctx, newsletter.DeliveryFilter{})
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range ds {
		st := "removed"
		if s, err := e.db.SubscriberByEmail(ctx, d.Email); err == nil {
			st = s.Status
		}
		if prev, ok := out[d.Email]; ok {
			out[d.Email] = prev + "," + d.Status + "/" + st
		} else {
			out[d.Email] = d.Status + "/" + st
		}
	}
	return out
}

func (e *env) delivery(tb testing.TB, email string) *newsletter.Delivery {
	tb.Helper()
	ds, err := e.db.Deliveries(context.Background(), newsletter.DeliveryFilter{Email: email})
	if err != nil || len(ds) == 0 {
		tb.Fatalf("no delivery to %s: %v", email, err)
	}
	return ds[len(ds)-1]
}

func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(strings.TrimLeft(s, "\n"), "\n", "\r\n"))
}

func newsletterFilter() newsletter.BounceFilter { return newsletter.BounceFilter{} }
