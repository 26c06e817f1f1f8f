package templates

import (
	"os"
	"path/filepath"
	"time"

	"github.com/example/newsletter"
)

// Export writes the embedded templates into dir, refusing to overwrite.
func Export(dir string) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, newsletter.Errorf(newsletter.EINVALID, "%s: %w", dir, newsletter.PathCause(err))
	}
	var written []string
	for _, f := range Files {
		p := filepath.Join(dir, f)
		if _, err := os.Stat(p); err == nil {
			return written, newsletter.Errorf(newsletter.ECONFLICT, "%s exists; not overwriting it", p)
		}
		b, _ := defaults.ReadFile("default/" + f)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			return written, newsletter.Errorf(newsletter.EINVALID, "%s: %w", p, newsletter.PathCause(err))
		}
		written = append(written, p)
	}
	return written, nil
}

// Check parses the templates in dir (over the defaults) and renders both
// kinds on sample data, reporting the first error with its file and line.
func Check(site Site, dir string) error {
	var o options
	if err := WithDir(dir)(&o); err != nil {
		return err
	}
	src, err := loadSources(o.dir)
	if err != nil {
		return err
	}
	// First as written, so errors carry the files' own line numbers...
	raw := &Renderer{site: site, md: newMarkdown(site.URL), kinds: map[string]*kindTemplates{},
		articles: map[string]Article{}, contents: map[string]*Content{}}
	if err := raw.parse(src, false); err != nil {
		return err
	}
	if err := renderSamples(raw); err != nil {
		return err
	}
	// ...then as they will run, with CSS inlined.
	r, err := New(site, WithDir(dir))
	if err != nil {
		return err
	}
	return renderSamples(r)
}

func renderSamples(r *Renderer) error {
	if _, err := r.Confirm(Reader{Name: "Sam Sample", Email: "sam@example.org"}, "https://example.org/confirm/token"); err != nil {
		return err
	}
	arts := SampleArticles()
	for _, kind := range []string{KindDigest, KindArticle} {
		set := arts
		if kind == KindArticle {
			set = arts[:1]
		}
		c, err := r.Content(kind, set)
		if err != nil {
			return err
		}
		if _, err := r.Render(c, Reader{Name: "Sam Sample", Email: "sam@example.org", Categories: []string{"Parks"}},
			Links{Unsubscribe: "https://example.org/u/token", Preferences: "https://example.org/p/token"}); err != nil {
			return err
		}
	}
	return nil
}

// SampleArticles returns two articles for previews and template checks.
func SampleArticles() []*newsletter.Article {
	d := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	as := []*newsletter.Article{
		{Slug: "sample-one", Title: "A Sample Article", Date: d, Categories: []string{"Parks"},
			Summary: "The first paragraph of a sample article.", URL: "https://example.org/sample-one",
			Body: "The first paragraph of a sample article.\n\nA second one, with a [link](/more)."},
		{Slug: "sample-two", Title: "Another Sample", Date: d, Categories: []string{"Events", "Top Stories"},
			Summary: "Something else happened.", URL: "https://example.org/sample-two", Body: "Something else happened."},
	}
	for _, a := range as {
		a.ComputeHash()
	}
	return as
}
