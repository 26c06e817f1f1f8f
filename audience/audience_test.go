package audience_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/audience"
	"github.com/example/newsletter/sqlite"
)

func newService(t *testing.T) *audience.Service {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "newsletter.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return audience.New(db)
}

func source(t *testing.T, csv, from string) *audience.Source {
	t.Helper()
	path := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(path, []byte(csv), 0o644)
	src, err := audience.OpenSource(path, nil, from)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// TestImport: another service's export joins the default list; a file of
// which no row could be stored is an error that still gives the counts; a
// removed unsubscribed address is remembered, and an import does not make
// it active again, until it is forgotten.
func TestImport(t *testing.T) {
	ctx := context.Background()
	s := newService(t)
	counts, err := s.Import(ctx, source(t, "Email Address,First Name,Last Name\nana@example.org,Ana,Silva\n", "mailchimp"), newsletter.ImportOptions{})
	if err != nil || counts.Added != 1 {
		t.Fatalf("mailchimp export: %+v, %v", counts, err)
	}
	var out bytes.Buffer
	if err := s.Export(ctx, &out, newsletter.SubscriberFilter{List: newsletter.DefaultList}, false); err != nil || !strings.Contains(out.String(), "ana@example.org") {
		t.Fatalf("export of the default list: %v\n%s", err, out.String())
	}
	counts, err = s.Import(ctx, source(t, "email\nnot-an-address\n", ""), newsletter.ImportOptions{OnReject: func(error) {}})
	if err == nil || counts == nil || counts.Rejected != 1 {
		t.Fatalf("no row imported: %+v, %v", counts, err)
	}
	if _, err := s.Unsubscribe(ctx, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if remembered, err := s.Remove(ctx, "ana@example.org", false); err != nil || remembered == "" {
		t.Fatalf("remove: %q, %v", remembered, err)
	}
	s.Import(ctx, source(t, "email\nana@example.org\n", ""), newsletter.ImportOptions{})
	if subs, _ := s.DB.Subscribers(ctx, newsletter.SubscriberFilter{Status: newsletter.StatusActive}); len(subs) != 0 {
		t.Fatalf("a removed unsubscribed address came back active: %+v", subs)
	}
}
