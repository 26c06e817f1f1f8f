package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

// MustOpenDB opens a fresh database in a temporary directory and closes it
// when the test ends.
func MustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func article(slug, title, date string, cats ...string) *newsletter.Article {
	d, _ := time.Parse(newsletter.DateLayout, date)
	a := &newsletter.Article{Slug: slug, Title: title, Date: d, Categories: cats, Body: "Body of " + title, Summary: "Sum"}
	a.ComputeHash()
	return a
}

func TestMigrations_UpgradeFromFirst(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 1)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := old.Version(ctx); v != 1 {
		t.Fatalf("version = %d, want 1", v)
	}
	if _, err := old.UpsertArticles(ctx, []*newsletter.Article{article("kept", "Kept", "2025-01-02", "Parks")}); err != nil {
		t.Fatal(err)
	}
	old.Close()

	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(ctx); v < 2 {
		t.Fatalf("version after upgrade = %d, want at least 2", v)
	}
	a, err := db.ArticleBySlug(ctx, "kept")
	if err != nil || a.Title != "Kept" || len(a.Categories) != 1 {
		t.Fatalf("article lost in upgrade: %+v %v", a, err)
	}
	// Opening again applies nothing twice.
	db.Close()
	db2, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
}

func TestUpsertArticles(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := article("canal", "Canal", "2025-03-04", "Parks", "Top Stories")
	b := article("bus", "Bus", "2025-03-01", "transport")
	res, err := db.UpsertArticles(ctx, []*newsletter.Article{a, b})
	if err != nil {
		t.Fatal(err)
	}
	if res[0] != newsletter.Added || res[1] != newsletter.Added {
		t.Fatalf("results = %v", res)
	}
	t.Run("Unchanged", func(t *testing.T) {
		res, err := db.UpsertArticles(ctx, []*newsletter.Article{article("canal", "Canal", "2025-03-04", "Parks", "Top Stories")})
		if err != nil || res[0] != newsletter.Unchanged {
			t.Fatalf("results = %v, %v", res, err)
		}
	})
	t.Run("Updated", func(t *testing.T) {
		res, err := db.UpsertArticles(ctx, []*newsletter.Article{article("canal", "Canal (updated)", "2025-03-04", "PARKS")})
		if err != nil || res[0] != newsletter.Updated {
			t.Fatalf("results = %v, %v", res, err)
		}
		got, _ := db.ArticleBySlug(ctx, "canal")
		if got.Title != "Canal (updated)" || len(got.Categories) != 1 || got.Categories[0] != "Parks" {
			t.Fatalf("after update: %+v (an all-capitals spelling does not replace a mixed-case one)", got)
		}
	})
	t.Run("FilterAndOrder", func(t *testing.T) {
		all, _ := db.Articles(ctx, newsletter.ArticleFilter{})
		if len(all) != 2 || all[0].Slug != "canal" {
			t.Fatalf("all = %v", all)
		}
		tr, _ := db.Articles(ctx, newsletter.ArticleFilter{Category: " Transport "})
		if len(tr) != 1 || tr[0].Slug != "bus" {
			t.Fatalf("by category = %v", tr)
		}
		since, _ := time.Parse(newsletter.DateLayout, "2025-03-02")
		recent, _ := db.Articles(ctx, newsletter.ArticleFilter{Since: since})
		if len(recent) != 1 || recent[0].Slug != "canal" {
			t.Fatalf("since = %v", recent)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		_, err := db.ArticleBySlug(ctx, "nope")
		if newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("Categories", func(t *testing.T) {
		cats, err := db.Categories(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"Parks": 1, "Top Stories": 0, "transport": 1}
		if len(cats) != 3 {
			t.Fatalf("categories = %+v", cats)
		}
		for _, c := range cats {
			if want[c.Name] != c.Articles {
				t.Errorf("%s: %d articles, want %d", c.Name, c.Articles, want[c.Name])
			}
		}
	})
}

func TestUpsertArticles_AllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	good := article("good", "Good", "2025-03-04", "Parks")
	bad := article("bad", "", "2025-03-04")
	if _, err := db.UpsertArticles(ctx, []*newsletter.Article{good, bad}); newsletter.ErrorCode(err) != newsletter.EINVALID {
		t.Fatalf("err = %v, want an EINVALID error", err)
	}
	if all, _ := db.Articles(ctx, newsletter.ArticleFilter{}); len(all) != 0 {
		t.Fatalf("a failed batch stored %d articles", len(all))
	}
	if cats, _ := db.Categories(ctx); len(cats) != 0 {
		t.Fatalf("a failed batch stored categories %+v", cats)
	}
}
