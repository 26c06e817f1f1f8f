package templates_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/templates"
)

// BenchmarkRenderDigest renders a personalised 10-article digest: one op is
// one reader's HTML and text parts, with the shared content cached as it is
// during a send.
func BenchmarkRenderDigest(b *testing.B) {
	r, err := templates.New(site)
	if err != nil {
		b.Fatal(err)
	}
	var arts []*newsletter.Article
	for i := 0; i < 10; i++ {
		a := &newsletter.Article{Slug: fmt.Sprintf("a%d", i), Title: fmt.Sprintf("Article number %d about the town", i),
			Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Categories: []string{"Parks", "Events"},
			URL: fmt.Sprintf("https://example.org/a%d", i), Summary: "A summary of about two hundred characters that says what happened, where and when, and why a reader might care about it enough to open the article itself."}
		a.ComputeHash()
		arts = append(arts, a)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, err := r.Content(templates.KindDigest, arts)
		if err != nil {
			b.Fatal(err)
		}
		i++
		if _, err := r.Render(c, templates.Reader{Name: fmt.Sprintf("Reader %d", i), Email: fmt.Sprintf("r%d@example.org", i), Categories: []string{"Parks"}}, links); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderDigestSpliced is BenchmarkRenderDigest as a send renders
// now: only the layout around the shared article block, per reader.
func BenchmarkRenderDigestSpliced(b *testing.B) {
	r, err := templates.New(site)
	if err != nil {
		b.Fatal(err)
	}
	var arts []*newsletter.Article
	for i := 0; i < 10; i++ {
		a := &newsletter.Article{Slug: fmt.Sprintf("a%d", i), Title: fmt.Sprintf("Article number %d about the town", i),
			Date: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Categories: []string{"Parks", "Events"},
			URL: fmt.Sprintf("https://example.org/a%d", i), Summary: "A summary of about two hundred characters that says what happened, where and when, and why a reader might care about it enough to open the article itself."}
		a.ComputeHash()
		arts = append(arts, a)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c, err := r.Content(templates.KindDigest, arts)
		if err != nil {
			b.Fatal(err)
		}
		i++
		if _, err := r.RenderSpliced(c, templates.Reader{Name: fmt.Sprintf("Reader %d", i), Email: fmt.Sprintf("r%d@example.org", i), Categories: []string{"Parks"}}, links); err != nil {
			b.Fatal(err)
		}
	}
}
