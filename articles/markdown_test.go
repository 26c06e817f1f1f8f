package articles_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/example/newsletter/articles"
)

func TestParseMarkdown(t *testing.T) {
	src := "---\ntitle: \"Plant a Tree — With Us\"\ndate: 2026-11-21\ncategories: [Parks, events, parks]\nauthor: Priya\n---\n\n# Heading\n\nWe are planting **150** [saplings](https://example.org/x).\nBring gloves.\n\nSecond paragraph.\n"
	a, err := articles.ParseMarkdown("tree.md", []byte(src), "https://example.org")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Plant a Tree — With Us" || a.Date.Format("2006-01-02") != "2026-11-21" || a.Author != "Priya" {
		t.Errorf("fields: %+v", a)
	}
	if !reflect.DeepEqual(a.Categories, []string{"Parks", "events"}) {
		t.Errorf("categories = %q", a.Categories)
	}
	if a.Summary != "We are planting 150 saplings. Bring gloves." {
		t.Errorf("summary = %q", a.Summary)
	}
	if a.Slug != "plant-a-tree-with-us" || a.URL != "https://example.org/plant-a-tree-with-us" {
		t.Errorf("slug/url = %q %q", a.Slug, a.URL)
	}
	if !strings.HasPrefix(a.Body, "# Heading") {
		t.Errorf("body = %q", a.Body)
	}

	t.Run("GivenSlugSummaryURLAndStringCategories", func(t *testing.T) {
		a, err := articles.ParseMarkdown("m.md", []byte("---\ntitle: T\ndate: March 4, 2025\ncategories: \"A, B\"\nslug: my-slug\nsummary: Given.\nurl: https://elsewhere.example/x\n---\nBody\n"), "https://example.org")
		if err != nil {
			t.Fatal(err)
		}
		if a.Slug != "my-slug" || a.Summary != "Given." || a.URL != "https://elsewhere.example/x" || !reflect.DeepEqual(a.Categories, []string{"A", "B"}) {
			t.Errorf("%+v", a)
		}
	})
}

func TestParseMarkdown_Errors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"ErrEmpty", "", "m.md: empty file"},
		{"ErrNoFrontMatter", "\n# Title\n", "m.md:2: expected front matter"},
		{"ErrUnclosed", "---\ntitle: T\n", "m.md:1: front matter is not closed"},
		{"ErrNoTitle", "---\ndate: 2025-03-04\n---\n", "m.md:1: front matter has no title"},
		{"ErrNoDate", "---\ntitle: T\n---\n", "m.md:1: front matter has no date"},
		{"ErrBadDate", "---\ntitle: T\n\ndate: soon\n---\n", `m.md:4: cannot read date "soon"`},
		{"ErrBadSlug", "---\ntitle: T\ndate: 2025-03-04\nslug: Not A Slug\n---\n", "m.md:4: slug"},
		{"ErrYAML", "---\ntitle: T\ndate: [2025\n---\n", "m.md:"},
		{"ErrNotMapping", "---\n- a\n---\n", "m.md:2: front matter must be key: value lines"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := articles.ParseMarkdown("m.md", []byte(tc.src), "")
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %v, want prefix %q", err, tc.want)
			}
		})
	}
}
