package templates_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/templates"
)

// A spliced message, joined, is exactly what Render makes, for digests and
// single articles, readers with and without a name or categories, and the
// default templates as well as layouts whose content sits at the edges.
func TestRenderSpliced_JoinsToRender(t *testing.T) {
	many := articles()
	for i := 0; i < 6; i++ {
		a := &newsletter.Article{Slug: fmt.Sprint("x", i), Title: fmt.Sprintf("Item %d   with  spaces ", i), Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
			URL: fmt.Sprint("https://example.org/x", i), Summary: strings.Repeat("A long summary line. ", 3+i)}
		a.ComputeHash()
		many = append(many, a)
	}
	readers := []templates.Reader{reader, {Email: "x@example.org"}, {Name: "  Zoë <b>\"Q\"</b>  ", Email: "z@example.org", Categories: []string{"Parks"}}}
	sites := []templates.Site{site, {Name: "S", URL: ""}}
	for _, st := range sites {
		r, err := templates.New(st)
		if err != nil {
			t.Fatal(err)
		}
		for _, kind := range []string{templates.KindDigest, templates.KindArticle} {
			for n := 1; n <= len(many); n += 3 {
				arts := many[:n]
				if kind == templates.KindArticle {
					arts = many[n-1 : n]
				}
				c, err := r.Content(kind, arts)
				if err != nil {
					t.Fatal(err)
				}
				for _, rd := range readers {
					want, err := r.Render(c, rd, links)
					if err != nil {
						t.Fatal(err)
					}
					got, err := r.RenderSpliced(c, rd, links)
					if err != nil {
						t.Fatal(err)
					}
					if got.Subject != want.Subject || got.HTML.Whole() != want.HTML || got.Text.Whole() != want.Text {
						t.Fatalf("%s %d %q: spliced differs\ntext:\n%s\nwant:\n%s", kind, n, rd.Name, got.Text.Whole(), want.Text)
					}
					if n > 1 && (got.HTML.Shared == nil || got.Text.Shared == nil) {
						t.Errorf("%s %d: nothing shared", kind, n)
					}
					for _, p := range []templates.SplicedPart{got.HTML, got.Text} {
						if p.Shared != nil && (!strings.HasSuffix(strings.Join(p.Head, ""), "\n") || !strings.HasSuffix(p.Shared.Text, "\n")) {
							t.Errorf("%s %d: a seam is not at a line break", kind, n)
						}
					}
				}
			}
		}
	}
}
