package articles_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	_ "time/tzdata" // the ET and Etc/GMT dates need zones where the system has none

	"github.com/example/newsletter/articles"
)

// rssItems wraps item elements in an RSS 2.0 document whose first item
// starts on line 4.
func rssItems(items ...string) []byte {
	return []byte("<?xml version=\"1.0\"?>\n<rss version=\"2.0\"><channel><title>T</title>\n<link>https://feed.example.org/</link>\n" +
		strings.Join(items, "\n") + "\n</channel></rss>\n")
}

func TestParseFeed_Identity(t *testing.T) {
	src, err := os.ReadFile("testdata/feeds/status.rss")
	if err != nil {
		t.Fatal(err)
	}
	arts, errs := articles.ParseFeed("status.rss", src, "https://example.org")
	if len(errs) > 0 || len(arts) != 5 {
		t.Fatalf("%d articles, errors %v", len(arts), errs)
	}
	t.Run("DuplicateTitles", func(t *testing.T) {
		keys := map[string]bool{}
		for _, a := range arts {
			if a.Key == "" || keys[a.Key] {
				t.Errorf("key %q of %q is empty or repeated", a.Key, a.Title)
			}
			keys[a.Key] = true
		}
	})
	t.Run("GuidThenLinkThenHash", func(t *testing.T) {
		if !strings.Contains(arts[0].Key, "https://status.example.org/incident/3") {
			t.Errorf("guid item key = %q", arts[0].Key)
		}
		if !strings.Contains(arts[4].Key, "https://status.example.org/photos/otter") {
			t.Errorf("link item key = %q", arts[4].Key)
		}
	})
	t.Run("NoLinkNoMadeUpURL", func(t *testing.T) {
		if arts[2].URL != "" {
			t.Errorf("item without a link has URL %q", arts[2].URL)
		}
	})
	t.Run("EditedItemKeepsItsKey", func(t *testing.T) {
		edited := strings.NewReplacer("It is back.", "It is back, fixed.", "A heron.", "A grey heron.").Replace(string(src))
		again, errs := articles.ParseFeed("status.rss", []byte(edited), "https://example.org")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		for i := range arts {
			if again[i].Key != arts[i].Key {
				t.Errorf("item %d: key %q became %q", i+1, arts[i].Key, again[i].Key)
			}
		}
		if again[0].Hash == arts[0].Hash || again[2].Hash == arts[2].Hash {
			t.Error("an edited item has the same hash")
		}
	})
}

func TestLoad_RecurringTitle(t *testing.T) {
	l := &articles.Loader{SiteURL: "https://example.org"}
	one, errs := l.Load(context.Background(), []string{"testdata/feeds/roundup-week1.rss"})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	two, errs := l.Load(context.Background(), []string{"testdata/feeds/roundup-week2.rss"})
	if len(errs) > 0 || len(two) != 2 {
		t.Fatalf("week 2: %d articles, errors %v", len(two), errs)
	}
	if two[1].Key != one[0].Key || two[0].Key == one[0].Key {
		t.Errorf("keys: week 1 %q, week 2 %q and %q", one[0].Key, two[0].Key, two[1].Key)
	}
}

func TestParseFeed_Dates(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Mon, 13 Feb, 2012 06:28:00 UTC", "2012-02-13"},
		{"Mon, 13 Feb 2012 16:31:00 ET", "2012-02-13"},
		{"Mon, 13 Feb 2012 23:31:00 ET", "2012-02-13"},
		{"Tue, 14 Feb 2012 10:00:00 Etc/GMT", "2012-02-14"},
		{"2003-12", "2003-12-01"},
		{"2004-02-28T18:14:55-08:00", "2004-02-28"},
		{"Sat, 28 Feb 2004 22:30:00 -0800", "2004-02-28"},
		{"Sun, 29 Feb 2004 01:30:00 +1300", "2004-02-29"},
		{"2012-02-13 06:28:00", "2012-02-13"},
		{"February 13, 2012", "2012-02-13"},
		{"13 February 2012", "2012-02-13"},
		{"Mon Feb 13 06:28:00 PST 2012", "2012-02-13"},
		{"2012/02/13", "2012-02-13"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			src := rssItems(fmt.Sprintf("<item><title>A</title><guid>g</guid><pubDate>%s</pubDate></item>", tc.in))
			arts, errs := articles.ParseFeed("d.rss", src, "")
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			if got := arts[0].Date.Format("2006-01-02"); got != tc.want {
				t.Errorf("date %s, want %s", got, tc.want)
			}
		})
	}
	t.Run("ErrUnreadableDate", func(t *testing.T) {
		src := rssItems("<item><title>A</title><pubDate>Mon, 1 Jan 2026</pubDate></item>",
			"<item>\n<title>B</title>\n<pubDate>the day after tomorrow</pubDate></item>")
		_, errs := articles.ParseFeed("d.rss", src, "")
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), `d.rss:5: item 2 ("B"): cannot read the date "the day after tomorrow"`) {
			t.Errorf("errors = %v", errs)
		}
	})
	t.Run("ErrNoDate", func(t *testing.T) {
		_, errs := articles.ParseFeed("d.rss", rssItems("<item><title>A</title></item>"), "")
		if len(errs) != 1 || !strings.Contains(errs[0].Error(), "d.rss:4: item 1 (\"A\") has no publication date") {
			t.Errorf("errors = %v", errs)
		}
	})
}

func TestParseFeed_Atom03(t *testing.T) {
	src, err := os.ReadFile("testdata/feeds/atom03.atom")
	if err != nil {
		t.Fatal(err)
	}
	arts, errs := articles.ParseFeed("old.atom", src, "https://example.org")
	if len(errs) > 0 || len(arts) != 2 {
		t.Fatalf("%d articles, errors %v", len(arts), errs)
	}
	if a := arts[0]; a.Title != "Hello, World" || a.Body != "The first post." || a.Date.Format("2006-01-02") != "2004-02-28" {
		t.Errorf("base64 entry: title %q body %q date %s", a.Title, a.Body, a.Date.Format("2006-01-02"))
	}
	b := arts[1]
	if b.Title != "Second post" || b.URL != "" {
		t.Errorf("escaped entry: title %q url %q", b.Title, b.URL)
	}
	if strings.ContainsAny(b.Summary, "#") || strings.Contains(b.Summary, "- Add") || !strings.Contains(b.Summary, "Add support for things") {
		t.Errorf("summary shows Markdown or lost the text: %q", b.Summary)
	}
}

func TestParseFeed_MarkdownLikeText(t *testing.T) {
	src := rssItems(`<item><title>Stars</title><guid>s</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate>` +
		`<description>&lt;hr&gt;&lt;h2&gt;Summary&lt;/h2&gt;&lt;p&gt;Use *stars*, # hashes and [brackets](x) as they are.&lt;/p&gt;</description></item>`)
	arts, errs := articles.ParseFeed("m.rss", src, "")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := "Use *stars*, # hashes and [brackets](x) as they are."; arts[0].Summary != want {
		t.Errorf("summary %q, want %q", arts[0].Summary, want)
	}
	if !strings.Contains(arts[0].Body, `\*stars\*`) {
		t.Errorf("body does not escape the text: %q", arts[0].Body)
	}
}

func TestParseFeed_ItemTooLarge(t *testing.T) {
	big := strings.Repeat("word ", 300)
	src := rssItems("<item><title>Small</title><guid>1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate><description>hi</description></item>",
		"<item><title>Huge</title><guid>2</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate><description>"+big+"</description></item>")
	arts, errs := articles.ParseFeedLimit("big.rss", src, "", 1000)
	if len(arts) != 1 || len(errs) != 1 || !strings.Contains(errs[0].Error(), `big.rss:5: item 2 ("Huge") is larger than`) {
		t.Errorf("%d articles, errors %v", len(arts), errs)
	}
}

func TestLoad_FileTooLarge(t *testing.T) {
	dir := t.TempDir()
	name := dir + "/big.txt"
	if err := os.WriteFile(name, []byte("2026-11-30\nBig\n"+strings.Repeat("word ", 300)+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := &articles.Loader{MaxSize: 1000}
	_, errs := l.Load(context.Background(), []string{name})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), name+": the file is larger than") {
		t.Errorf("errors = %v", errs)
	}
}

func TestFeedScope(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"https://blog.example/", "blog.example"},
		{"http://WWW.Blog.Example", "blog.example"},
		{" https://blog.example:443/news/ ", "blog.example/news"},
		{"http://blog.example:8080/feed?x=1#top", "blog.example:8080/feed?x=1"},
		{"feeds/news.rss", "feeds/news.rss"},
	} {
		if got := articles.FeedScope(c.in); got != c.want {
			t.Errorf("FeedScope(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
