package sqlite_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/example/newsletter"
)

// TestEachArticle_Pages: a listing reads every article once, newest first,
// across pages.
func TestEachArticle_Pages(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	var arts []*newsletter.Article
	for i := range 1203 {
		arts = append(arts, article(fmt.Sprintf("a%04d", i), fmt.Sprintf("A %d", i), fmt.Sprintf("2026-%02d-%02d", 1+i%12, 1+i%28)))
	}
	if _, err := db.UpsertArticles(ctx, arts); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var prev *newsletter.Article
	err := db.EachArticle(ctx, newsletter.ArticleFilter{}, func(a *newsletter.Article) error {
		if seen[a.Slug] {
			t.Fatalf("%s twice", a.Slug)
		}
		seen[a.Slug] = true
		if prev != nil && a.Date.After(prev.Date) {
			t.Fatalf("%s (%s) after %s (%s)", a.Slug, a.Date, prev.Slug, prev.Date)
		}
		prev = a
		return nil
	})
	if err != nil || len(seen) != 1203 {
		t.Fatalf("%d articles, %v", len(seen), err)
	}
}
