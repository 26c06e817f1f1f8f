package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
	"github.com/example/newsletter/sqlite"
)

// Keys stored by the old rule (the channel link as written, an item without
// guid or link keyed by its title and day) still match after the upgrade:
// the migration normalises their scope, and an old item key is adopted.
func TestMigrations_FeedKeysNormalised(t *testing.T) {
	ctx := context.Background()
	feed := `<?xml version="1.0"?><rss version="2.0"><channel><title>B</title><link>https://www.Blog.example/</link>
<item><title>Hello</title><guid>g1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate><description>Hi.</description></item>
<item><title>Status</title><pubDate>Mon, 30 Nov 2026 09:00:00 +0000</pubDate><description>Up.</description></item>
</channel></rss>`
	parse := func() []*newsletter.Article {
		as, errs := articles.ParseFeed("f.rss", []byte(feed), "")
		if len(as) != 2 || len(errs) != 0 {
			t.Fatal(as, errs)
		}
		return as
	}
	path := filepath.Join(t.TempDir(), "old.db")
	old, err := sqlite.OpenAtVersion(ctx, path, 9)
	if err != nil {
		t.Fatal(err)
	}
	stored := parse()
	for _, a := range stored {
		if !strings.HasPrefix(a.Key, "feed:blog.example#") {
			t.Fatalf("key %q", a.Key)
		}
		if k := articles.LegacyItemKey(a.Key); k != "" {
			a.Key = k
		}
		a.Key = strings.Replace(a.Key, "feed:blog.example#", "feed:https://www.Blog.example/#", 1)
	}
	if _, err := old.UpsertArticles(ctx, stored); err != nil {
		t.Fatal(err)
	}
	old.Close()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	res, err := db.UpsertArticles(ctx, parse())
	if err != nil || res[0] != newsletter.Unchanged || res[1] != newsletter.Unchanged {
		t.Fatal(res, err)
	}
	if all, _ := db.Articles(ctx, newsletter.ArticleFilter{}); len(all) != 2 {
		t.Errorf("%d articles, want 2", len(all))
	}
}
