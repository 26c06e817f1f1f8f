package templates_test

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/templates"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var site = templates.Site{Name: "Millbrook Community Trust", URL: "https://example.org", Address: "1 Chapel Square, Millbrook"}

func articles() []*newsletter.Article {
	d := func(s string) time.Time { t, _ := time.Parse("2006-01-02", s); return t }
	as := []*newsletter.Article{
		{Slug: "plant-a-tree", Title: "Plant a Tree With Us", Date: d("2026-11-21"), Categories: []string{"Parks", "Events"},
			URL: "https://example.org/plant-a-tree", Summary: "We are planting 150 oak and hazel saplings along the old railway path this Saturday.",
			Body: "We are planting **150 oak and hazel saplings** along the old railway path this Saturday, from 9:00 until noon, and we would love to see you there with friends.\n\n" +
				"## What to bring\n\nGloves and boots. Meet at the [railway path entrance](/map/railway-path) on Station Road.\n\n" +
				"- Children are welcome with an adult, and there is tea.\n- The path is step-free from the Station Road end.\n\n1. Sign in\n2. Plant\n\n> Every tree counts.\n\n<script>alert(1)</script>\n"},
		{Slug: "night-bus", Title: "Night Bus N7 Gets a Trial Run", Date: d("2026-11-05"), Categories: []string{"Transport"},
			URL: "https://example.org/night-bus", Summary: "From the 16th, the N7 night bus will run every 30 minutes until 3 a.m."},
	}
	for _, a := range as {
		a.ComputeHash()
	}
	return as
}

var reader = templates.Reader{Name: "Ana Silva", Email: "ana.silva@example.org", Categories: []string{"Parks", "Transport"}}
var links = templates.Links{Unsubscribe: "https://news.example.org/unsubscribe/tok", Preferences: "https://news.example.org/preferences/tok"}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./templates -update rewrites it):\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	r, err := templates.New(site)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{templates.KindDigest, templates.KindArticle} {
		t.Run(kind, func(t *testing.T) {
			arts := articles()
			if kind == templates.KindArticle {
				arts = arts[:1]
			}
			c, err := r.Content(kind, arts)
			if err != nil {
				t.Fatal(err)
			}
			m, err := r.Render(c, reader, links)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, kind+".subject", m.Subject+"\n")
			golden(t, kind+".html", m.HTML)
			golden(t, kind+".txt", m.Text)
			checkText(t, m.Text)
			checkHTML(t, m.HTML)
		})
	}
}

var bareURL = regexp.MustCompile(`^\S+://\S+$`)

// checkText: no line over 78 characters but a bare URL; the footer is
// there.
func checkText(t *testing.T, text string) {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if n := len([]rune(l)); n > 78 && !bareURL.MatchString(l) {
			t.Errorf("text line %d has %d characters: %q", i+1, n, l)
		}
	}
	for _, want := range []string{links.Unsubscribe, links.Preferences, "Millbrook Community Trust", "news about Parks, Transport"} {
		if !strings.Contains(text, want) {
			t.Errorf("text part lacks %q", want)
		}
	}
}

// checkHTML: CSS is inlined, media queries stay in the head, no script,
// the footer links are there.
func checkHTML(t *testing.T, html string) {
	t.Helper()
	for _, want := range []string{`style="`, "@media", "prefers-color-scheme", `class="preheader"`, `href="` + links.Unsubscribe + `"`, `href="` + links.Preferences + `"`, "Manage preferences", `width="600"`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML lacks %q", want)
		}
	}
	for _, bad := range []string{"<script", "{{", "NLTPLACTION", "display: flex", "display:flex", "grid"} {
		if strings.Contains(html, bad) {
			t.Errorf("HTML contains %q", bad)
		}
	}
}

func TestRender_EscapesHostileData(t *testing.T) {
	r, err := templates.New(site)
	if err != nil {
		t.Fatal(err)
	}
	a := articles()[:1]
	a[0].Title = `<script>alert("t")</script> & "Quotes"`
	a[0].Summary = `<img src=x onerror=alert(1)>`
	a[0].URL = "javascript:alert(1)"
	a[0].Body = "Text <b>raw</b> <script>x()</script> [click](javascript:alert(2))"
	a[0].ComputeHash()
	for _, kind := range []string{templates.KindDigest, templates.KindArticle} {
		c, err := r.Content(kind, a)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Render(c, templates.Reader{Name: "<b>Eve</b>\r\nBcc: x@example.net", Email: "eve@example.org"}, links)
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"<script", "<img", "javascript:", "<b>Eve"} {
			if strings.Contains(m.HTML, bad) {
				t.Errorf("%s: HTML contains %q", kind, bad)
			}
		}
		if !strings.Contains(m.HTML, "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt; &amp; &#34;Quotes&#34;") {
			t.Errorf("%s: title not escaped as text", kind)
		}
		if strings.ContainsAny(m.Subject, "\r\n") {
			t.Errorf("%s: subject has a line break: %q", kind, m.Subject)
		}
		if strings.Contains(m.Text, "Eve\r") || strings.Contains(m.Text, "Eve</b>\nBcc") {
			t.Errorf("%s: name kept its line break", kind)
		}
	}
}

func TestSubject(t *testing.T) {
	r, _ := templates.New(site)
	arts := articles()
	for n, want := range map[int]string{1: "Plant a Tree With Us", 2: "Plant a Tree With Us and 1 more"} {
		c, err := r.Content(templates.KindDigest, arts[:n])
		if err != nil || c.Subject != want {
			t.Errorf("%d articles: subject %q, %v; want %q", n, c.Subject, err, want)
		}
	}
	t.Run("NameInSubject", func(t *testing.T) {
		s := site
		s.NameInSubject = true
		r, _ := templates.New(s)
		for kind, want := range map[string]string{templates.KindDigest: "Millbrook Community Trust: Plant a Tree With Us and 1 more", templates.KindArticle: "Millbrook Community Trust: Plant a Tree With Us"} {
			set := arts
			if kind == templates.KindArticle {
				set = arts[:1]
			}
			if c, err := r.Content(kind, set); err != nil || c.Subject != want {
				t.Errorf("%s: subject %q, %v; want %q", kind, c.Subject, err, want)
			}
		}
	})
}

func TestContentIsCached(t *testing.T) {
	r, _ := templates.New(site)
	arts := articles()
	c1, _ := r.Content(templates.KindDigest, arts)
	c2, _ := r.Content(templates.KindDigest, articles())
	if c1 != c2 {
		t.Error("the same articles rendered twice")
	}
	c3, _ := r.Content(templates.KindDigest, arts[:1])
	if c3 == c1 {
		t.Error("another set of articles shares the cache entry")
	}
}

func TestTemplateDir(t *testing.T) {
	dir := t.TempDir()
	written, err := templates.Export(dir)
	if err != nil || len(written) != len(templates.Files) {
		t.Fatalf("export: %v %v", written, err)
	}
	if _, err := templates.Export(dir); newsletter.ErrorCode(err) != newsletter.ECONFLICT {
		t.Fatalf("export over existing files: %v", err)
	}
	// An override of one file changes only that file.
	os.WriteFile(filepath.Join(dir, "digest.subject"), []byte("Weekly from {{.Site.Name}}"), 0o644)
	r, err := templates.New(site, templates.WithDir(dir))
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Content(templates.KindDigest, articles())
	if c.Subject != "Weekly from Millbrook Community Trust" {
		t.Errorf("subject = %q", c.Subject)
	}
	if err := templates.Check(site, dir); err != nil {
		t.Errorf("check: %v", err)
	}

	t.Run("ErrSyntaxNamesFileAndLine", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, "digest.txt"), []byte("line one\n{{range .Articles}}\n{{.Title}\n"), 0o644)
		err := templates.Check(site, dir)
		if err == nil || !strings.Contains(err.Error(), "digest.txt:3:") {
			t.Errorf("err = %v, want digest.txt:3", err)
		}
	})
	t.Run("ErrExecNamesFileAndLine", func(t *testing.T) {
		os.WriteFile(filepath.Join(dir, "digest.txt"), []byte("ok\n{{.NoSuchField}}\n"), 0o644)
		err := templates.Check(site, dir)
		if err == nil || !strings.Contains(err.Error(), "digest.txt:2:") || !strings.Contains(err.Error(), "NoSuchField") {
			t.Errorf("err = %v, want digest.txt:2 and the field", err)
		}
	})
	t.Run("ErrHTMLLine", func(t *testing.T) {
		os.Remove(filepath.Join(dir, "digest.txt"))
		os.WriteFile(filepath.Join(dir, "digest.html"), []byte("<p>\n\n{{if .Articles}}</p>\n"), 0o644)
		err := templates.Check(site, dir)
		if err == nil || !strings.Contains(err.Error(), "digest.html:4: unexpected EOF") {
			t.Errorf("err = %v, want digest.html:4", err)
		}
	})
	t.Run("ErrMissingDir", func(t *testing.T) {
		if _, err := templates.New(site, templates.WithDir(filepath.Join(dir, "nope"))); err == nil {
			t.Error("a missing directory was accepted")
		}
	})
}

func TestMarkdownText(t *testing.T) {
	r, _ := templates.New(site)
	a := articles()[:1]
	c, _ := r.Content(templates.KindArticle, a)
	m, _ := r.Render(c, reader, links)
	for _, want := range []string{
		"We are planting 150 oak and hazel saplings along the old railway path\nthis Saturday,",
		"What to bring\n-------------",
		"- Children are welcome with an adult, and there is tea.\n- The path",
		"1. Sign in\n2. Plant",
		"> Every tree counts.",
		"[railway path entrance] [1]",
		"[1] https://example.org/map/railway-path",
	} {
		want = strings.ReplaceAll(want, "[railway path entrance]", "railway path entrance")
		if !strings.Contains(m.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, m.Text)
		}
	}
	if strings.Contains(m.Text, "alert(1)") || strings.Contains(m.Text, "**") {
		t.Errorf("raw HTML or Markdown syntax in text:\n%s", m.Text)
	}
	if !strings.Contains(m.HTML, `href="https://example.org/map/railway-path"`) {
		t.Error("relative link not made absolute in HTML")
	}
}

func TestFirstName(t *testing.T) {
	for name, want := range map[string]string{
		"Ana Silva": "Ana", "Smith, Carol": "Carol", "  Jo  ": "Jo", "": "", "Dr. Smith": "", "J. Smith": "",
		"ana@example.org": "", "Mary-Jane O'Neill": "Mary-Jane", "Smith,": "", ", Carol": "", "42": "",
	} {
		if got := templates.FirstName(name); got != want {
			t.Errorf("FirstName(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestCopy: a greeting by first name or none, "all the news" for readers
// of every category, the same words in both parts.
func TestCopy(t *testing.T) {
	r, _ := templates.New(site)
	c, _ := r.Content(templates.KindDigest, articles())
	for _, tc := range []struct {
		name      string
		reader    templates.Reader
		want, not []string
	}{
		{"ByFirstName", templates.Reader{Name: "Smith, Carol", Email: "c@example.org", Categories: []string{"Parks"}},
			[]string{"Hello Carol, here are the 2 new articles in your categories.", "news about Parks"}, []string{"Smith"}},
		{"NoName", templates.Reader{Email: "x@example.org"},
			[]string{"Here is all the news from Millbrook Community Trust: 2 new articles.", "subscribed to all the news."}, []string{"Hello", "your categories", "all of its news"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := r.Render(c, tc.reader, links)
			if err != nil {
				t.Fatal(err)
			}
			text := strings.Join(strings.Fields(m.Text), " ")
			for _, part := range []string{m.HTML, text} {
				for _, w := range tc.want {
					if !strings.Contains(part, w) {
						t.Errorf("lacks %q", w)
					}
				}
				for _, w := range tc.not {
					if strings.Contains(part, w) {
						t.Errorf("has %q", w)
					}
				}
			}
		})
	}
}

// TestImages: every image, in a body or as a lead image, has the column
// width, an alt text and a style that lets it shrink.
func TestImages(t *testing.T) {
	r, _ := templates.New(site)
	a := articles()
	a[0].Body = "Before.\n\n![A wide photo of the park](/img/wide.jpg)\n\n![](https://example.org/b.png)\n\n# Big heading\n"
	a[0].Image, a[0].ImageAlt = "https://example.org/lead.jpg", ""
	for _, x := range a {
		x.ComputeHash()
	}
	for _, kind := range []string{templates.KindDigest, templates.KindArticle} {
		set := a
		if kind == templates.KindArticle {
			set = a[:1]
		}
		c, err := r.Content(kind, set)
		if err != nil {
			t.Fatal(err)
		}
		m, err := r.Render(c, reader, links)
		if err != nil {
			t.Fatal(err)
		}
		imgs := regexp.MustCompile(`<img[^>]*>`).FindAllString(m.HTML, -1)
		want := 1 // the lead image; the digest shows no bodies
		if kind == templates.KindArticle {
			want = 3 // the lead image and two in the body
		}
		if len(imgs) != want {
			t.Errorf("%s: %d images, want %d: %q", kind, len(imgs), want, imgs)
		}
		for _, img := range imgs {
			for _, re := range []string{` width="536"`, ` alt="`, `max-width: ?100%`, `height: ?auto`} {
				if !regexp.MustCompile(re).MatchString(img) {
					t.Errorf("%s: %s lacks %s", kind, img, re)
				}
			}
		}
		if !strings.Contains(m.HTML, `alt="Plant a Tree With Us"`) {
			t.Errorf("%s: the lead image's alt is not the title", kind)
		}
		if kind == templates.KindArticle {
			if !strings.Contains(m.HTML, `src="https://example.org/img/wide.jpg" alt="A wide photo of the park"`) {
				t.Errorf("body image not absolute or without its alt")
			}
			if !strings.Contains(m.HTML, "<h3") || strings.Contains(m.HTML, "Big heading</h1>") {
				t.Errorf("a heading in the body is not below the title")
			}
		}
	}
}

func TestHeadings(t *testing.T) {
	r, _ := templates.New(site)
	for _, kind := range []string{templates.KindDigest, templates.KindArticle} {
		set := articles()
		if kind == templates.KindArticle {
			set = set[:1]
		}
		c, _ := r.Content(kind, set)
		m, _ := r.Render(c, reader, links)
		if n := strings.Count(m.HTML, "<h1"); n != 1 {
			t.Errorf("%s: %d h1, want 1", kind, n)
		}
		if n := strings.Count(m.HTML, "<h2"); n != len(set) {
			t.Errorf("%s: %d h2, want %d", kind, n, len(set))
		}
	}
}

func TestBrandAndLogo(t *testing.T) {
	s := site
	s.Brand, s.Logo = "#7a1f5c", "https://example.org/logo.png"
	r, err := templates.New(s)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.Content(templates.KindArticle, articles()[:1])
	m, _ := r.Render(c, reader, links)
	if strings.Contains(strings.ToLower(m.HTML), templates.DefaultBrand) || !strings.Contains(m.HTML, "#7a1f5c") {
		t.Error("the brand colour did not replace the default")
	}
	if !strings.Contains(m.HTML, `src="https://example.org/logo.png" alt="Millbrook Community Trust"`) {
		t.Error("no logo with the site name as alt")
	}
	s.Brand = "red"
	if _, err := templates.New(s); newsletter.ErrorCode(err) != newsletter.EINVALID {
		t.Errorf("brand %q: %v", s.Brand, err)
	}
}

func TestViewInBrowser(t *testing.T) {
	r, _ := templates.New(site)
	c, _ := r.Content(templates.KindDigest, articles())
	l := links
	l.Browser = "https://news.example.org/archive/7"
	m, _ := r.Render(c, reader, l)
	if !strings.Contains(m.HTML, `<a href="https://news.example.org/archive/7"`) || !strings.Contains(m.Text, "View in browser:\nhttps://news.example.org/archive/7") {
		t.Error("no view-in-browser link")
	}
	// Without links (the archive's own copy), no footer links either.
	m, _ = r.Render(c, templates.Reader{}, templates.Links{})
	for _, bad := range []string{"View in browser", "Manage preferences", "Unsubscribe", "href=\"\""} {
		if strings.Contains(m.HTML, bad) || strings.Contains(m.Text, bad) {
			t.Errorf("a message without links has %q", bad)
		}
	}
}

func TestConfirm(t *testing.T) {
	r, _ := templates.New(site)
	m, err := r.Confirm(templates.Reader{Name: "Ana Silva", Email: "ana@example.org"}, "https://news.example.org/confirm/tok")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.HTML, `class="preheader"`) {
		t.Error("no preheader")
	}
	if !regexp.MustCompile(`<td class="button" bgcolor="#1f4e79"[^>]*><a href="https://news.example.org/confirm/tok"`).MatchString(m.HTML) {
		t.Error("the call to action is not a button")
	}
	if !strings.Contains(m.HTML, "Hello Ana, someone") || !strings.Contains(m.Text, "Hello Ana, someone") {
		t.Error("no greeting by first name")
	}
	golden(t, "confirm.html", m.HTML)
	golden(t, "confirm.txt", m.Text)
}
