package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
)

func keyed(key, slug, title, date, body string) *newsletter.Article {
	a := article(slug, title, date)
	// The URL the loaders make from site.url and the slug, marked as such.
	a.Key, a.Body, a.URL, a.SlugURL = key, body, "https://example.org/"+slug, true
	a.ComputeHash()
	return a
}

func TestUpsertArticles_Keys(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	week1 := keyed("feed:x#guid:1", "weekly-roundup", "Weekly roundup", "2026-11-23", "Week one.")
	if res, err := db.UpsertArticles(ctx, []*newsletter.Article{week1}); err != nil || res[0] != newsletter.Added {
		t.Fatal(res, err)
	}
	t.Run("RecurringTitleIsANewArticle", func(t *testing.T) {
		week2 := keyed("feed:x#guid:2", "weekly-roundup", "Weekly roundup", "2026-11-30", "Week two.")
		again := keyed("feed:x#guid:1", "weekly-roundup", "Weekly roundup", "2026-11-23", "Week one.")
		res, err := db.UpsertArticles(ctx, []*newsletter.Article{week2, again})
		if err != nil || res[0] != newsletter.Added || res[1] != newsletter.Unchanged {
			t.Fatal(res, err)
		}
		a, err := db.ArticleBySlug(ctx, "weekly-roundup-2026-11-30")
		if err != nil || a.Body != "Week two." || a.URL != "https://example.org/weekly-roundup-2026-11-30" {
			t.Fatalf("week two: %+v %v", a, err)
		}
		if a, err := db.ArticleBySlug(ctx, "weekly-roundup"); err != nil || a.Body != "Week one." {
			t.Fatalf("week one: %+v %v", a, err)
		}
	})
	t.Run("EditedItemUpdatesItsOwnArticle", func(t *testing.T) {
		edited := keyed("feed:x#guid:2", "weekly-roundup", "Weekly roundup", "2026-11-30", "Week two, corrected.")
		res, err := db.UpsertArticles(ctx, []*newsletter.Article{edited})
		if err != nil || res[0] != newsletter.Updated || edited.Slug != "weekly-roundup-2026-11-30" {
			t.Fatal(res, err, edited.Slug)
		}
		if a, _ := db.ArticleBySlug(ctx, "weekly-roundup-2026-11-30"); a.Body != "Week two, corrected." {
			t.Errorf("body %q", a.Body)
		}
		if a, _ := db.ArticleBySlug(ctx, "weekly-roundup"); a.Body != "Week one." {
			t.Errorf("week one overwritten: %q", a.Body)
		}
	})
	t.Run("MarkdownFileFromAnotherDirectory", func(t *testing.T) {
		a := keyed("md:path:news/tree.md", "plant-a-tree", "Plant a Tree", "2026-11-21", "Trees.")
		b := keyed("md:path:site/news/tree.md", "plant-a-tree", "Plant a Tree", "2026-11-21", "Trees.")
		if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
			t.Fatal(err)
		}
		res, err := db.UpsertArticles(ctx, []*newsletter.Article{b})
		if err != nil || res[0] == newsletter.Added || b.Slug != "plant-a-tree" {
			t.Fatal(res, err, b.Slug)
		}
	})
	t.Run("SameTitleSameDayInOneBatch", func(t *testing.T) {
		var as []*newsletter.Article
		for _, k := range []string{"p1", "p2", "p3"} {
			as = append(as, keyed("feed:y#guid:"+k, "photo", "Photo", "2026-12-01", k))
		}
		if _, err := db.UpsertArticles(ctx, as); err != nil {
			t.Fatal(err)
		}
		if as[0].Slug != "photo" || as[1].Slug != "photo-2026-12-01" || as[2].Slug != "photo-2026-12-01-2" {
			t.Errorf("slugs %q %q %q", as[0].Slug, as[1].Slug, as[2].Slug)
		}
	})
}

func TestMigrations_ArticleKeysBackfilled(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 4)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.UpsertArticles(ctx, []*newsletter.Article{article("canal", "Canal", "2025-03-04", "Parks")}); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The same article, read again from its source with a key, is the
	// stored one: updated in place, not added under another slug.
	a := keyed("post:2025-03-04:Canal", "canal", "Canal", "2025-03-04", "Body, edited.")
	res, err := db.UpsertArticles(ctx, []*newsletter.Article{a})
	if err != nil || res[0] != newsletter.Updated || a.Slug != "canal" {
		t.Fatal(res, err, a.Slug)
	}
	if all, _ := db.Articles(ctx, newsletter.ArticleFilter{}); len(all) != 1 {
		t.Errorf("%d articles, want 1", len(all))
	}
	// Once adopted, the key is the article's: another item with the same
	// title on another day is another article.
	b := keyed("post:2025-03-11:Canal", "canal", "Canal", "2025-03-11", "A week later.")
	if res, err := db.UpsertArticles(ctx, []*newsletter.Article{b}); err != nil || res[0] != newsletter.Added || b.Slug != "canal-2025-03-11" {
		t.Fatal(res, err, b.Slug)
	}
}
