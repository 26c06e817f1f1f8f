// Package templates renders newsletter mail: an embedded default template set
// (a digest of many articles and a single article, each with a subject, an
// HTML and a text template over a shared layout), article Markdown as HTML
// and as plain text, and CSS inlined into style attributes.
//
// Everything expensive happens once: templates are parsed and their CSS
// inlined when a Renderer is made, each distinct set of articles is rendered
// once (Content), and per reader only the layout is executed (Render).
//
// In HTML templates, put template actions inside elements or attribute
// values, not between table rows: the CSS inliner parses the template as
// HTML and would move stray text out of a table.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/vanng822/go-premailer/premailer"

	"github.com/example/newsletter"
)

//go:embed default/*
var defaults embed.FS

// Kinds of message; each has NAME.subject, NAME.html and NAME.txt.
const (
	KindDigest  = newsletter.KindDigest
	KindArticle = newsletter.KindArticle
)

// Files lists the template files, which a template directory may override
// one by one.
var Files = []string{
	"layout.html", "layout.txt",
	"digest.subject", "digest.html", "digest.txt",
	"article.subject", "article.html", "article.txt",
	"confirm.subject", "confirm.html", "confirm.txt",
}

// TextWidth is the width the text part is wrapped at.
const TextWidth = 72

// Site is what the templates know of the sender.
type Site struct {
	Name    string
	URL     string
	Address string // postal address for the footer, optional
}

// Reader is the one person a message is for.
type Reader struct {
	Name       string
	Email      string
	Categories []string // empty: every category
}

// Links are the per-reader URLs of a message.
type Links struct {
	Unsubscribe string
	Preferences string
}

// Article is an article as the templates see it.
type Article struct {
	Title      string
	URL        string
	Date       string // "2 January 2006"
	Categories []string
	Summary    string
	BodyHTML   htmltemplate.HTML
	BodyText   string
}

// contentData is what the content and subject templates get.
type contentData struct {
	Kind     string
	Site     Site
	Articles []Article
}

// layoutData is what the layout templates get.
type layoutData[T any] struct {
	Site           Site
	Reader         Reader
	Subject        string
	Preheader      string
	Intro          string
	Content        T
	UnsubscribeURL string
	PreferencesURL string
}

// Renderer renders messages. It is safe for concurrent use.
type Renderer struct {
	site Site
	md   *markdown
	css  string

	layoutHTML *htmltemplate.Template
	layoutText *texttemplate.Template
	kinds      map[string]*kindTemplates
	confirm    *kindTemplates // the double opt-in mail: whole documents, no layout

	mu       sync.Mutex
	articles map[string]Article  // by slug and hash
	contents map[string]*Content // by kind and article hashes
}

type kindTemplates struct {
	subject *texttemplate.Template
	html    *htmltemplate.Template
	text    *texttemplate.Template
}

// Option configures a Renderer.
type Option func(*options) error

type options struct {
	dir string
}

// WithDir makes files in dir override the embedded templates of the same
// name. An empty dir is no override.
func WithDir(dir string) Option {
	return func(o *options) error {
		if dir == "" {
			return nil
		}
		fi, err := os.Stat(dir)
		if err != nil {
			return newsletter.Errorf(newsletter.EINVALID, "templates directory %s: %w", dir, newsletter.PathCause(err))
		} else if !fi.IsDir() {
			return newsletter.Errorf(newsletter.EINVALID, "templates directory %s is not a directory", dir)
		}
		o.dir = dir
		return nil
	}
}

// New loads, inlines and parses the templates.
func New(site Site, opts ...Option) (*Renderer, error) {
	var o options
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	src, err := loadSources(o.dir)
	if err != nil {
		return nil, err
	}
	r := &Renderer{site: site, md: newMarkdown(site.URL), kinds: map[string]*kindTemplates{},
		articles: map[string]Article{}, contents: map[string]*Content{}}
	if err := r.parse(src, true); err != nil {
		return nil, err
	}
	return r, nil
}

// source is one template file and where it came from, for errors.
type source struct {
	name, path, text string
}

func loadSources(dir string) (map[string]source, error) {
	out := map[string]source{}
	for _, f := range Files {
		b, err := defaults.ReadFile("default/" + f)
		if err != nil {
			return nil, err
		}
		s := source{name: f, path: f, text: string(b)}
		if dir != "" {
			p := filepath.Join(dir, f)
			if b, err := os.ReadFile(p); err == nil {
				s = source{name: f, path: p, text: string(b)}
			} else if !errors.Is(err, fs.ErrNotExist) {
				return nil, newsletter.Errorf(newsletter.EINVALID, "%s: %w", p, newsletter.PathCause(err))
			}
		}
		out[f] = s
	}
	return out, nil
}

var funcs = map[string]any{
	"join": strings.Join,
	"wrap": func(s string, width int) string { return wrap(s, width) },
	"rule": func(n int, s string) string { return strings.Repeat(s, max(1, min(n, TextWidth))) },
	"reason": func(cats []string) string {
		if len(cats) == 0 {
			return "all of its news"
		}
		return "news about " + strings.Join(cats, ", ")
	},
}

// parse parses the sources. With inline, the HTML templates' CSS is inlined
// first; without, errors carry the lines of the files as written.
func (r *Renderer) parse(src map[string]source, inline bool) error {
	layout := src["layout.html"]
	css := styleBlock(layout.text)
	r.css = css
	layoutSrc := layout.text
	if inline {
		var err error
		if layoutSrc, err = inlineTemplate(layout, css, false); err != nil {
			return err
		}
	}
	var err error
	if r.layoutHTML, err = htmltemplate.New(layout.path).Funcs(funcs).Parse(layoutSrc); err != nil {
		return templateError(err)
	}
	if r.layoutText, err = texttemplate.New(src["layout.txt"].path).Funcs(funcs).Parse(src["layout.txt"].text); err != nil {
		return templateError(err)
	}
	for _, kind := range []string{KindDigest, KindArticle} {
		k := &kindTemplates{}
		s := src[kind+".subject"]
		if k.subject, err = texttemplate.New(s.path).Funcs(funcs).Parse(s.text); err != nil {
			return templateError(err)
		}
		h := src[kind+".html"]
		hs := h.text
		if inline {
			if hs, err = inlineTemplate(h, css, true); err != nil {
				return err
			}
		}
		if k.html, err = htmltemplate.New(h.path).Funcs(funcs).Parse(hs); err != nil {
			return templateError(err)
		}
		t := src[kind+".txt"]
		if k.text, err = texttemplate.New(t.path).Funcs(funcs).Parse(t.text); err != nil {
			return templateError(err)
		}
		r.kinds[kind] = k
	}
	c := &kindTemplates{}
	if c.subject, err = texttemplate.New(src["confirm.subject"].path).Funcs(funcs).Parse(src["confirm.subject"].text); err != nil {
		return templateError(err)
	}
	ch := src["confirm.html"]
	chs := ch.text
	if inline {
		if chs, err = inlineTemplate(ch, styleBlock(ch.text), false); err != nil {
			return err
		}
	}
	if c.html, err = htmltemplate.New(ch.path).Funcs(funcs).Parse(chs); err != nil {
		return templateError(err)
	}
	if c.text, err = texttemplate.New(src["confirm.txt"].path).Funcs(funcs).Parse(src["confirm.txt"].text); err != nil {
		return templateError(err)
	}
	r.confirm = c
	return nil
}

// confirmData is what the confirmation templates get.
type confirmData struct {
	Site       Site
	Reader     Reader
	Subject    string
	ConfirmURL string
}

// Confirm renders the double opt-in mail asking reader to confirm at
// confirmURL.
func (r *Renderer) Confirm(reader Reader, confirmURL string) (*Message, error) {
	reader.Name = newsletter.OneLine(reader.Name)
	d := confirmData{Site: r.site, Reader: reader, ConfirmURL: confirmURL}
	var subj, html, text bytes.Buffer
	if err := r.confirm.subject.Execute(&subj, d); err != nil {
		return nil, templateError(err)
	}
	d.Subject = newsletter.OneLine(subj.String())
	if err := r.confirm.html.Execute(&html, d); err != nil {
		return nil, templateError(err)
	}
	if err := r.confirm.text.Execute(&text, d); err != nil {
		return nil, templateError(err)
	}
	return &Message{Subject: d.Subject, HTML: html.String(), Text: tidyText(text.String())}, nil
}

// templateError turns "template: file:line: msg" into "file:line: msg".
func templateError(err error) error {
	return newsletter.Errorf(newsletter.EINVALID, "%s", strings.TrimPrefix(err.Error(), "template: "))
}

var (
	styleRe  = regexp.MustCompile(`(?is)<style[^>]*>(.*?)</style>`)
	actionRe = regexp.MustCompile(`(?s)\{\{.*?\}\}`)
	bodyRe   = regexp.MustCompile(`(?is)<body[^>]*>(.*)</body>`)
)

// styleBlock returns the CSS of the <style> blocks of a layout.
func styleBlock(html string) string {
	var css []string
	for _, m := range styleRe.FindAllStringSubmatch(html, -1) {
		css = append(css, m[1])
	}
	return strings.Join(css, "\n")
}

// inlineTemplate inlines css into the style attributes of a template's HTML.
// Template actions are swapped for inert placeholders while the HTML is
// parsed, then put back. A fragment is wrapped in a document with the CSS
// and unwrapped again.
func inlineTemplate(s source, css string, fragment bool) (string, error) {
	var actions []string
	doc := actionRe.ReplaceAllStringFunc(s.text, func(a string) string {
		actions = append(actions, a)
		return fmt.Sprintf("NLTPLACTION%05dX", len(actions)-1)
	})
	if fragment {
		doc = "<!DOCTYPE html><html><head><style>" + css + "</style></head><body>" + doc + "</body></html>"
	}
	out, err := inlineCSS(doc)
	if err != nil {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS: %w", s.path, err)
	}
	if fragment {
		m := bodyRe.FindStringSubmatch(out)
		if m == nil {
			return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS lost the content", s.path)
		}
		out = m[1]
	}
	restored := regexp.MustCompile(`NLTPLACTION(\d{5})X`).ReplaceAllStringFunc(out, func(p string) string {
		var i int
		fmt.Sscanf(p, "NLTPLACTION%05dX", &i)
		if i < len(actions) {
			return actions[i]
		}
		return p
	})
	if n := strings.Count(restored, "{{"); n != len(actions) {
		return "", newsletter.Errorf(newsletter.EINVALID, "%s: inlining CSS moved template actions; keep actions inside elements, not between table rows", s.path)
	}
	return restored, nil
}

func inlineCSS(doc string) (string, error) {
	p, err := premailer.NewPremailerFromString(doc, premailer.NewOptions(premailer.WithCssToAttributes(true), premailer.WithKeepBangImportant(true)))
	if err != nil {
		return "", err
	}
	return p.Transform()
}

// inlineHTML inlines the layout CSS into runtime HTML (an article body from
// Markdown) placed inside an element with class wrapperClass.
func (r *Renderer) inlineHTML(html, wrapperClass string) (string, error) {
	marker := "NLBODYWRAPPER"
	doc := "<!DOCTYPE html><html><head><style>" + r.css + "</style></head><body><div class=\"" + wrapperClass + "\" id=\"" + marker + "\">" + html + "</div></body></html>"
	out, err := inlineCSS(doc)
	if err != nil {
		return "", err
	}
	m := bodyRe.FindStringSubmatch(out)
	if m == nil {
		return html, nil
	}
	inner := m[1]
	if i := strings.Index(inner, marker); i >= 0 {
		if j := strings.IndexByte(inner[i:], '>'); j >= 0 {
			inner = inner[i+j+1:]
		}
	}
	inner = strings.TrimSpace(inner)
	inner = strings.TrimSuffix(inner, "</div>")
	return inner, nil
}

// article converts a stored article for the templates, once per content.
func (r *Renderer) article(a *newsletter.Article) (Article, error) {
	key := a.Slug + "\x00" + a.Hash
	r.mu.Lock()
	v, ok := r.articles[key]
	r.mu.Unlock()
	if ok {
		return v, nil
	}
	body, err := r.md.HTML(a.Body)
	if err != nil {
		return Article{}, err
	}
	if body, err = r.inlineHTML(body, "body"); err != nil {
		return Article{}, err
	}
	v = Article{
		Title:      newsletter.OneLine(a.Title),
		URL:        a.URL,
		Date:       a.Date.Format("2 January 2006"),
		Categories: a.Categories,
		Summary:    a.Summary,
		BodyHTML:   htmltemplate.HTML(body), // goldmark output: raw HTML dropped, text escaped
		BodyText:   r.md.Text(a.Body, TextWidth),
	}
	r.mu.Lock()
	r.articles[key] = v
	r.mu.Unlock()
	return v, nil
}

// Content is the part of a message shared by every reader of one set of
// articles: rendered once, then personalised by Render.
type Content struct {
	Kind      string
	Subject   string
	Preheader string
	Intro     string
	html      htmltemplate.HTML
	text      string
}

// Content renders the shared part of a message of kind for articles, or
// returns it from the cache.
func (r *Renderer) Content(kind string, arts []*newsletter.Article) (*Content, error) {
	k, ok := r.kinds[kind]
	if !ok {
		return nil, newsletter.Errorf(newsletter.EINVALID, "unknown message kind %q", kind)
	}
	if len(arts) == 0 {
		return nil, newsletter.Errorf(newsletter.EINVALID, "a message needs at least one article")
	}
	var key strings.Builder
	key.WriteString(kind)
	for _, a := range arts {
		key.WriteString("\x00" + a.Slug + "\x00" + a.Hash)
	}
	r.mu.Lock()
	c, ok := r.contents[key.String()]
	r.mu.Unlock()
	if ok {
		return c, nil
	}
	data := contentData{Kind: kind, Site: r.site}
	for _, a := range arts {
		v, err := r.article(a)
		if err != nil {
			return nil, err
		}
		data.Articles = append(data.Articles, v)
	}
	var subj, html, text bytes.Buffer
	if err := k.subject.Execute(&subj, data); err != nil {
		return nil, templateError(err)
	}
	if err := k.html.Execute(&html, data); err != nil {
		return nil, templateError(err)
	}
	if err := k.text.Execute(&text, data); err != nil {
		return nil, templateError(err)
	}
	c = &Content{
		Kind:      kind,
		Subject:   newsletter.OneLine(subj.String()),
		Preheader: preheader(kind, data.Articles),
		Intro:     intro(kind, r.site.Name, len(arts)),
		html:      htmltemplate.HTML(html.String()),
		text:      strings.TrimRight(text.String(), "\n"),
	}
	r.mu.Lock()
	r.contents[key.String()] = c
	r.mu.Unlock()
	return c, nil
}

func intro(kind, site string, n int) string {
	switch {
	case kind == KindArticle:
		return "here is the latest from " + site + "."
	case n == 1:
		return "here is the one new article in your categories."
	default:
		return fmt.Sprintf("here are the %d new articles in your categories.", n)
	}
}

func preheader(kind string, arts []Article) string {
	if kind == KindArticle {
		return clip(arts[0].Summary, 140)
	}
	titles := make([]string, len(arts))
	for i, a := range arts {
		titles[i] = a.Title
	}
	return clip(strings.Join(titles, " · "), 140)
}

// Message is a rendered message for one reader.
type Message struct {
	Subject string
	HTML    string
	Text    string
}

// Render personalises c for reader with links.
func (r *Renderer) Render(c *Content, reader Reader, links Links) (*Message, error) {
	reader.Name = newsletter.OneLine(reader.Name)
	var html, text bytes.Buffer
	if err := r.layoutHTML.Execute(&html, layoutData[htmltemplate.HTML]{
		Site: r.site, Reader: reader, Subject: c.Subject, Preheader: c.Preheader, Intro: c.Intro,
		Content: c.html, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences,
	}); err != nil {
		return nil, templateError(err)
	}
	if err := r.layoutText.Execute(&text, layoutData[string]{
		Site: r.site, Reader: reader, Subject: c.Subject, Preheader: c.Preheader, Intro: c.Intro,
		Content: c.text, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences,
	}); err != nil {
		return nil, templateError(err)
	}
	return &Message{Subject: c.Subject, HTML: html.String(), Text: tidyText(text.String())}, nil
}

// tidyText drops trailing spaces and runs of more than one blank line.
func tidyText(s string) string {
	lines := strings.Split(s, "\n")
	out := lines[:0]
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t\r")
		if l == "" {
			blank++
			if blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimSpace(strings.Join(out, "\n")) + "\n"
}

func clip(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

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
