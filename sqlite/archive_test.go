package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/example/newsletter"
)

func TestArticleImage(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := &newsletter.Article{Slug: "tree", Title: "Tree", Date: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Body: "B",
		Image: "https://example.org/tree.jpg", ImageAlt: "A tree"}
	if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
		t.Fatal(err)
	}
	got, err := db.ArticleBySlug(ctx, "tree")
	if err != nil {
		t.Fatal(err)
	}
	if got.Image != a.Image || got.ImageAlt != a.ImageAlt {
		t.Errorf("stored image %q %q", got.Image, got.ImageAlt)
	}
}

func TestIssues_NoneUnsent(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	a := &newsletter.Article{Slug: "tree", Title: "Tree", Date: time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), Body: "B"}
	if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddSubscriber(ctx, &newsletter.SubscriberInput{Email: "r@example.org"}, []string{newsletter.DefaultList}, false); err != nil {
		t.Fatal(err)
	}
	c, err := db.CreateCampaign(ctx, newsletter.CampaignSpec{Kind: newsletter.KindArticle, List: newsletter.DefaultList, Key: "k", ArticleIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// No delivery was sent: the campaign is no issue yet.
	if is, err := db.Issues(ctx, 10); err != nil || len(is) != 0 {
		t.Errorf("issues %v, %v", is, err)
	}
	if _, err := db.Issue(ctx, c.ID); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("unsent issue: %v", err)
	}
}

// TestCategorySpelling: the latest article's spelling of a category is the
// one shown, not whichever came first.
func TestCategorySpelling(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	d := time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)
	for i, spelling := range []string{"top stories", "Top Stories"} {
		a := &newsletter.Article{Slug: fmt.Sprintf("a%d", i), Title: "A", Date: d, Body: "B", Categories: []string{spelling}}
		if _, err := db.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
			t.Fatal(err)
		}
	}
	cats, _ := db.Categories(ctx)
	if len(cats) != 1 || cats[0].Name != "Top Stories" {
		t.Errorf("categories %+v, want one, Top Stories", cats)
	}
	a, _ := db.ArticleBySlug(ctx, "a0")
	if len(a.Categories) != 1 || a.Categories[0] != "Top Stories" {
		t.Errorf("the first article shows %q", a.Categories)
	}
}
