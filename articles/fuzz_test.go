package articles_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/articles"
)

func FuzzParsePost(f *testing.F) {
	f.Add([]byte("March 4, 2025\nT\nP\nCategories: A, B\n"))
	f.Add([]byte("\xef\xbb\xbf2025-03-04\r\nT\r\n\r\nP\r\n"))
	f.Add([]byte("Categories: A\n"))
	f.Add([]byte("Jan 2, 2006\nCategories:\n*x* <y> [z](w)\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, err := articles.ParsePost("f.txt", src)
		if err != nil {
			return
		}
		a := p.Article("f.txt", "https://example.org")
		if !articles.ValidSlug(a.Slug) {
			t.Fatalf("invalid slug %q from title %q", a.Slug, p.Title)
		}
		// Written back in the post format, it parses to the same post and
		// the same article.
		p2, err := articles.ParsePost("g.txt", p.Format())
		if err != nil {
			t.Fatalf("formatted post does not parse: %v\n%s", err, p.Format())
		}
		if !reflect.DeepEqual(p, p2) {
			t.Fatalf("round trip changed the post:\n%#v\n%#v", p, p2)
		}
		if a2 := p2.Article("f.txt", "https://example.org"); a2.Hash != a.Hash {
			t.Fatalf("round trip changed the article")
		}
	})
}

func FuzzParseMarkdown(f *testing.F) {
	f.Add([]byte("---\ntitle: T\ndate: 2025-03-04\ncategories: [A, B]\n---\nBody *x*\n"))
	f.Add([]byte("---\ntitle: [\n---\n"))
	f.Add([]byte("---\ntitle: T\ndate: 2025-03-04\ncategories: {a: b}\nslug: Bad Slug\n---\n"))
	f.Add([]byte("---\n- a\n- b\n---\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		a, err := articles.ParseMarkdown("f.md", src, "https://example.org")
		if err != nil {
			if _, ok := err.(*articles.ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if a.Title == "" || a.Date.IsZero() || !articles.ValidSlug(a.Slug) {
			t.Fatalf("accepted an incomplete article: %+v", a)
		}
	})
}

// FuzzParseFeedIdentity checks the identity rules on any feed: every article has a
// key, no two articles of a feed share one, parsing again gives the same
// keys and hashes, and slugs, dates and links are well formed.
func FuzzParseFeedIdentity(f *testing.F) {
	for _, name := range []string{"testdata/trust.rss", "testdata/trust.atom", "testdata/feeds/status.rss", "testdata/feeds/atom03.atom", "testdata/feeds/roundup-week2.rss"} {
		src, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(src)
	}
	f.Add([]byte(`<rss version="2.0"><channel><item><title>A</title><pubDate>2003-12</pubDate></item><item><title>A</title><pubDate>2003-12</pubDate></item></channel></rss>`))
	f.Fuzz(func(t *testing.T, src []byte) {
		arts, _ := articles.ParseFeed("f.xml", src, "https://example.org")
		again, _ := articles.ParseFeed("f.xml", src, "https://example.org")
		if len(arts) != len(again) {
			t.Fatalf("%d articles, then %d", len(arts), len(again))
		}
		keys := map[string]bool{}
		for i, a := range arts {
			if a.Key == "" || keys[a.Key] {
				t.Fatalf("item %q: key %q empty or repeated", a.Title, a.Key)
			}
			keys[a.Key] = true
			if again[i].Key != a.Key || again[i].Hash != a.Hash {
				t.Fatalf("item %q: parsing again gives key %q hash %s, was %q %s", a.Title, again[i].Key, again[i].Hash, a.Key, a.Hash)
			}
			if !articles.ValidSlug(a.Slug) || a.Title == "" {
				t.Fatalf("item: slug %q title %q", a.Slug, a.Title)
			}
			if a.Date.Location() != time.UTC || a.Date.Hour() != 0 || a.Date.Minute() != 0 {
				t.Fatalf("item %q: date %v is not a day", a.Title, a.Date)
			}
			if a.URL != "" && !strings.HasPrefix(a.URL, "http://") && !strings.HasPrefix(a.URL, "https://") {
				t.Fatalf("item %q: URL %q", a.Title, a.URL)
			}
			if a.URL == "https://example.org/"+a.Slug {
				t.Fatalf("item %q: made-up URL %q", a.Title, a.URL)
			}
		}
	})
}
