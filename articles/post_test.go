package articles_test

import (
	"bytes"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter/articles"
)

const seedPath = "../../shared/seeds/000_ceed58c8f938922f.txt"

func TestParsePost_Seed(t *testing.T) {
	src, err := os.ReadFile(seedPath)
	if errors.Is(err, os.ErrNotExist) {
		t.Skipf("seed article %s is absent", seedPath)
	} else if err != nil {
		t.Fatal(err)
	}
	p, err := articles.ParsePost("seed.txt", src)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Date.Format("2006-01-02"); got != "2011-02-24" {
		t.Errorf("date = %s, want 2011-02-24", got)
	}
	if !strings.Contains(p.Title, "Calderon’s") {
		t.Errorf("title lost its curly apostrophe: %q", p.Title)
	}
	if len(p.Paragraphs) != 5 {
		t.Errorf("paragraphs = %d, want 5", len(p.Paragraphs))
	}
	if want := []string{"Government Relations", "Top Stories"}; !reflect.DeepEqual(p.Categories, want) {
		t.Errorf("categories = %q, want %q", p.Categories, want)
	}

	crlf := append([]byte("\xef\xbb\xbf"), bytes.ReplaceAll(src, []byte("\n"), []byte("\r\n"))...)
	p2, err := articles.ParsePost("seed-crlf.txt", crlf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, p2) {
		t.Errorf("CRLF + BOM copy differs:\n%+v\n%+v", p, p2)
	}
	a1, a2 := p.Article("a", "https://example.org"), p2.Article("b", "https://example.org")
	if a1.Hash != a2.Hash || a1.Slug != a2.Slug {
		t.Errorf("CRLF + BOM copy gives another article: %s/%s vs %s/%s", a1.Slug, a1.Hash, a2.Slug, a2.Hash)
	}
}

func date(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParsePost_Shapes(t *testing.T) {
	for _, tc := range []struct {
		name string
		src  string
		want articles.Post
	}{
		{"LongDate", "March 4, 2025\nCanal Cleanup Draws a Crowd\nOne.\nTwo.\nCategories: Parks, Events\n",
			articles.Post{date("2025-03-04"), "Canal Cleanup Draws a Crowd", []string{"One.", "Two."}, []string{"Parks", "Events"}}},
		{"ShortDate", "Mar 4, 2025\nT\nP\n", articles.Post{date("2025-03-04"), "T", []string{"P"}, nil}},
		{"ISODate", "2025-03-04\nT\nP\n", articles.Post{date("2025-03-04"), "T", []string{"P"}, nil}},
		{"CRLFAndBOM", "\xef\xbb\xbfMarch 4, 2025\r\nT\r\nP\r\nCategories: A\r\n", articles.Post{date("2025-03-04"), "T", []string{"P"}, []string{"A"}}},
		{"TrailingSpacesAndBlankLines", "\n\nMarch 4, 2025   \n\n  T  \n\nP one \n\n\nP two\t\n\n", articles.Post{date("2025-03-04"), "T", []string{"P one", "P two"}, nil}},
		{"Typography", "March 4, 2025\n“Quotes” — and ’apostrophes’…\nIt’s “fine” — really…\n",
			articles.Post{date("2025-03-04"), "“Quotes” — and ’apostrophes’…", []string{"It’s “fine” — really…"}, nil}},
		{"CategoriesCleaned", "March 4, 2025\nT\nP\ncategories:  top   stories , Top Stories,, Parks \n",
			articles.Post{date("2025-03-04"), "T", []string{"P"}, []string{"top stories", "Parks"}}},
		{"CategoriesOnlyLast", "March 4, 2025\nT\nCategories: not last\nP\n",
			articles.Post{date("2025-03-04"), "T", []string{"Categories: not last", "P"}, nil}},
		{"NoBody", "March 4, 2025\nT\nCategories: A\n", articles.Post{date("2025-03-04"), "T", nil, []string{"A"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := articles.ParsePost("x.txt", []byte(tc.src))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*p, tc.want) {
				t.Errorf("got  %#v\nwant %#v", *p, tc.want)
			}
		})
	}
}

func TestParsePost_Errors(t *testing.T) {
	for _, tc := range []struct {
		name, src, want string
	}{
		{"ErrEmptyFile", "", "news.txt: empty file"},
		{"ErrOnlyBlank", "\n \r\n\t\n", "news.txt: empty file"},
		{"ErrNoDateLine", "Canal Cleanup\nA paragraph.\n", `news.txt:1: cannot read "Canal Cleanup" as a date`},
		{"ErrBadDate", "\nFebruary 30, 2025\nT\nP\n", `news.txt:2: cannot read "February 30, 2025" as a date`},
		{"ErrDateNoTitle", "March 4, 2025\n\n", "news.txt:2: expected a title line after the date"},
		{"ErrOnlyCategories", "Categories: Parks, Events\n", "news.txt:1: expected a publication date"},
		{"ErrDateThenCategories", "March 4, 2025\n\nCategories: Parks\n", "news.txt:3: expected a title line after the date, found the Categories line"},
		{"ErrNotUTF8", "March 4, 2025\n\xff\xfe\n", "news.txt: not UTF-8 text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := articles.ParsePost("news.txt", []byte(tc.src))
			if err == nil {
				t.Fatal("no error")
			}
			var pe *articles.ParseError
			if !errors.As(err, &pe) || pe.File != "news.txt" {
				t.Fatalf("error %v does not name the file", err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("error = %q, want prefix %q", err, tc.want)
			}
		})
	}
}

func TestPostArticle(t *testing.T) {
	p, err := articles.ParsePost("x.txt", []byte("March 4, 2025\nCafé “Opens” *Today*\nA <b>bold</b> 2 * 3 [claim] & more.\n1. Not a list\n"+strings.Repeat("word ", 100)+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	a := p.Article("x.txt", "https://example.org/news/")
	if a.Slug != "cafe-opens-today" {
		t.Errorf("slug = %q", a.Slug)
	}
	if a.URL != "https://example.org/news/cafe-opens-today" {
		t.Errorf("url = %q", a.URL)
	}
	wantBody := "A \\<b\\>bold\\</b\\> 2 \\* 3 \\[claim\\] \\& more.\n\n1\\. Not a list\n\n" + strings.TrimSpace(strings.Repeat("word ", 100))
	if a.Body != wantBody {
		t.Errorf("body = %q\nwant   %q", a.Body, wantBody)
	}
	if a.Summary != "A <b>bold</b> 2 * 3 [claim] & more." {
		t.Errorf("summary = %q", a.Summary)
	}
	if a.Hash == "" {
		t.Error("no hash")
	}
}

func TestSummarize(t *testing.T) {
	long := strings.Repeat("abcde ", 80)
	s := articles.Summarize(long, 300)
	if !strings.HasSuffix(s, "…") || len([]rune(s)) > 301 || strings.Contains(s, "abcde abc…") {
		t.Errorf("summary not cut at a word: %q", s)
	}
	if got := articles.Summarize("short text", 300); got != "short text" {
		t.Errorf("short summary changed: %q", got)
	}
}

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Riverside Park’s North Meadow Reopens": "riverside-parks-north-meadow-reopens",
		"Café — Déjà Vu!":                       "cafe-deja-vu",
		"  --Hello,   World--  ":                "hello-world",
		"N7: 24/7 Service":                      "n7-24-7-service",
	} {
		if got := articles.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
	if got := articles.Slugify("日本語"); !strings.HasPrefix(got, "article-") || !articles.ValidSlug(got) {
		t.Errorf("Slugify of a non-Latin title = %q", got)
	}
	long := articles.Slugify(strings.Repeat("word ", 40))
	if len(long) > 80 || !articles.ValidSlug(long) {
		t.Errorf("long slug %q", long)
	}
}
