package articles_test

import (
	"reflect"
	"testing"

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
