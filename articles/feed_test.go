package articles_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	gmhtml "github.com/yuin/goldmark/renderer/html"
	"golang.org/x/net/html"

	"github.com/example/newsletter/articles"
)

func TestParseFeed_RSS(t *testing.T) {
	src, _ := os.ReadFile("testdata/trust.rss")
	arts, errs := articles.ParseFeed("trust.rss", src, "https://example.org")
	if len(errs) > 0 || len(arts) != 2 {
		t.Fatalf("%d articles, errors %v", len(arts), errs)
	}
	a := arts[0]
	if a.Title != "Footbridge Reopens After Repairs" || a.Date.Format("2006-01-02") != "2026-11-24" ||
		!reflect.DeepEqual(a.Categories, []string{"Transport", "Top Stories"}) || a.URL != "https://trust.example.org/news/footbridge" ||
		a.Slug != "footbridge-reopens-after-repairs" || a.Summary != "The Mill Lane footbridge is open again, with a new ramp." {
		t.Errorf("article = %+v", a)
	}
	for _, want := range []string{
		"The Mill Lane footbridge is **open again**, with a new ramp.",
		"See the [map](https://trust.example.org/map) and this.",
		"- Step-free\n- Lit at night",
		"## Thanks",
		"1\\. To the volunteers \\& the council.",
	} {
		if !strings.Contains(a.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, a.Body)
		}
	}
	for _, bad := range []string{"alert", "javascript", "pixel.gif", "<"} {
		if strings.Contains(strings.ReplaceAll(a.Body, "\\<", ""), bad) {
			t.Errorf("body contains %q:\n%s", bad, a.Body)
		}
	}
	b := arts[1]
	if b.Body != "Twelve new plots by the river." || b.Summary != "Twelve new plots by the river." {
		t.Errorf("description-only item: body %q summary %q", b.Body, b.Summary)
	}
}

func TestParseFeed_Atom(t *testing.T) {
	src, _ := os.ReadFile("testdata/trust.atom")
	arts, errs := articles.ParseFeed("trust.atom", src, "")
	if len(errs) > 0 || len(arts) != 1 {
		t.Fatalf("%d articles, errors %v", len(arts), errs)
	}
	a := arts[0]
	if a.URL != "https://trust.example.org/news/quiet-hour" || a.Author != "Priya Natarajan" || a.Summary != "No music from 10:00 to 11:00." ||
		a.Body != "No music from *10:00 to 11:00*, for those who prefer it quiet." || a.Categories[0] != "Events" {
		t.Errorf("article = %+v", a)
	}
}

func TestParseFeed_Errors(t *testing.T) {
	for _, tc := range []struct{ name, src, want string }{
		{"ErrNotAFeed", "<html><body>hello</body></html>", "f.xml: not an RSS or Atom feed"},
		{"ErrNoItems", `<rss version="2.0"><channel><title>x</title></channel></rss>`, "f.xml: the feed has no items"},
		{"ErrNoDate", `<rss version="2.0"><channel><item><title>Undated</title></item></channel></rss>`, `f.xml:1: item 1 ("Undated") has no publication date`},
		{"ErrNoTitle", `<rss version="2.0"><channel><item><pubDate>Tue, 24 Nov 2026 10:30:00 +0000</pubDate></item></channel></rss>`, "f.xml:1: item 1 has no title"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs := articles.ParseFeed("f.xml", []byte(tc.src), "")
			if len(errs) == 0 || !strings.HasPrefix(errs[0].Error(), tc.want) {
				t.Errorf("errors = %v, want %q", errs, tc.want)
			}
		})
	}
}

func TestLoad_FeedURL(t *testing.T) {
	src, _ := os.ReadFile("testdata/trust.rss")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/feed.xml" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write(src)
	}))
	defer srv.Close()
	l := &articles.Loader{SiteURL: "https://example.org", HTTP: srv.Client()}
	arts, errs := l.Load(context.Background(), []string{srv.URL + "/feed.xml"})
	if len(errs) > 0 || len(arts) != 2 {
		t.Fatalf("%d articles, errors %v", len(arts), errs)
	}
	_, errs = l.Load(context.Background(), []string{srv.URL + "/missing.xml"})
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "cannot fetch the feed: 404 Not Found") {
		t.Fatalf("errors = %v", errs)
	}
}

func TestHTMLToMarkdown(t *testing.T) {
	for in, want := range map[string]string{
		"<p>a *star* and _under_</p>":                        `a \*star\* and \_under\_`,
		"<p>- not a list</p><p>+ nor this</p>":               "\\- not a list\n\n\\+ nor this",
		"<blockquote><p>quoted</p><p>twice</p></blockquote>": "> quoted\n\n> twice",
		"<pre>code *x*\n  indented</pre>":                    "```\ncode *x*\n  indented\n```",
		"<ol><li>one</li><li>two <b>bold</b></li></ol>":      "1. one\n2. two **bold**",
		"line<br>break": "line\\\nbreak",
		"<p>see <a href='https://x.example/a_(c)'>it</a></p>": "see [it](https://x.example/a_%28c%29)",
		"<div><span>plain</span> <i>it</i></div>":             "plain *it*",
		"<style>p{}</style><p>ok</p>":                         "ok",
		"":                                                    "",
	} {
		if got := articles.HTMLToMarkdown(in, "https://trust.example.org/"); got != want {
			t.Errorf("HTMLToMarkdown(%q) =\n%q\nwant\n%q", in, got, want)
		}
	}
}

func FuzzHTMLToMarkdown(f *testing.F) {
	f.Add("<p>a <b>b</b> <a href='/x'>c</a></p><ul><li>d</li></ul>")
	f.Add("<blockquote><pre>```</pre></blockquote>")
	f.Add("<script>x</script><img src=x onerror=y>")
	// Even a Markdown renderer that lets raw HTML through must get no tag,
	// event handler or script link from the converter's output.
	md := goldmark.New(goldmark.WithRendererOptions(gmhtml.WithUnsafe()))
	f.Fuzz(func(t *testing.T, in string) {
		out := articles.HTMLToMarkdown(in, "https://example.org/")
		var b strings.Builder
		if err := md.Convert([]byte(out), &b); err != nil {
			t.Fatal(err)
		}
		doc, err := html.Parse(strings.NewReader(b.String()))
		if err != nil {
			t.Fatal(err)
		}
		var walk func(*html.Node)
		walk = func(n *html.Node) {
			if n.Type == html.ElementNode {
				switch n.Data {
				case "script", "img", "iframe", "style", "object", "svg", "form", "input":
					t.Fatalf("%q gave Markdown %q, rendering a <%s>", in, out, n.Data)
				}
				for _, a := range n.Attr {
					if strings.HasPrefix(strings.ToLower(a.Key), "on") || strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Val)), "javascript:") {
						t.Fatalf("%q gave Markdown %q, rendering %s=%q", in, out, a.Key, a.Val)
					}
				}
			}
			for c := n.FirstChild; c != nil; c = c.NextSibling {
				walk(c)
			}
		}
		walk(doc)
	})
}

func FuzzParseFeed(f *testing.F) {
	for _, p := range []string{"testdata/trust.rss", "testdata/trust.atom"} {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		arts, _ := articles.ParseFeed("f.xml", src, "https://example.org")
		for _, a := range arts {
			if a.Title == "" || a.Date.IsZero() || !articles.ValidSlug(a.Slug) {
				t.Fatalf("incomplete article %+v", a)
			}
		}
	})
}
