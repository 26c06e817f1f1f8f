package articles_test

import (
	"testing"

	"github.com/example/newsletter/articles"
)

func TestLeadImage(t *testing.T) {
	t.Run("FrontMatter", func(t *testing.T) {
		a, err := articles.ParseMarkdown("a.md", []byte("---\ntitle: T\ndate: 2026-11-21\nimage: /img/park.jpg\nimage_alt: The park\n---\nBody.\n"), "https://example.org/news/")
		if err != nil {
			t.Fatal(err)
		}
		if a.Image != "https://example.org/img/park.jpg" || a.ImageAlt != "The park" {
			t.Errorf("image %q alt %q", a.Image, a.ImageAlt)
		}
		if _, err := articles.ParseMarkdown("b.md", []byte("---\ntitle: T\ndate: 2026-11-21\nimage: javascript:alert(1)\n---\n"), "https://example.org"); err == nil {
			t.Error("a javascript: image was taken")
		}
	})
	t.Run("Feed", func(t *testing.T) {
		feed := `<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>F</title><link>https://example.org/</link>
<item><title>Enclosure</title><link>https://example.org/a</link><pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>
<enclosure url="https://example.org/a.jpg" length="1" type="image/jpeg"/></item>
<item><title>Media</title><link>https://example.org/b</link><pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>
<media:content url="/b.png" medium="image"/></item>
<item><title>Podcast</title><link>https://example.org/c</link><pubDate>Mon, 23 Nov 2026 10:00:00 +0000</pubDate>
<enclosure url="https://example.org/c.mp3" length="1" type="audio/mpeg"/></item>
</channel></rss>`
		as, errs := articles.ParseFeed("f.rss", []byte(feed), "https://example.org")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		want := map[string]string{"Enclosure": "https://example.org/a.jpg", "Media": "https://example.org/b.png", "Podcast": ""}
		for _, a := range as {
			if a.Image != want[a.Title] {
				t.Errorf("%s: image %q, want %q", a.Title, a.Image, want[a.Title])
			}
		}
	})
}
