package templates

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/example/newsletter"
)

// article converts a stored article for the templates, once per content.
func (r *Renderer) article(a *newsletter.Article) (Article, error) {
	key := a.Slug + "\x00" + a.Hash + "\x00" + a.URL
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
		Image:      a.Image,
		ImageAlt:   imageAlt(a),
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
	// Intro is the sentence after the greeting for a reader of every
	// category with no name; Render words it for each reader.
	Intro string
	n     int // how many articles
	html  htmltemplate.HTML
	text  string
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
		key.WriteString("\x00" + a.Slug + "\x00" + a.Hash + "\x00" + a.URL)
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
		Intro:     intro(kind, r.site.Name, len(arts), nil, false),
		n:         len(arts),
		html:      htmltemplate.HTML(html.String()),
		text:      strings.TrimRight(text.String(), "\n"),
	}
	r.mu.Lock()
	r.contents[key.String()] = c
	r.mu.Unlock()
	return c, nil
}

// intro is the sentence that opens a message: after "Hello Ana, " when
// greeted, capitalised when not.
func intro(kind, site string, n int, categories []string, greeted bool) string {
	var s string
	switch {
	case kind == KindArticle:
		s = "here is the latest from " + site + "."
	case len(categories) == 0 && n == 1:
		s = "here is all the news from " + site + ": one new article."
	case len(categories) == 0:
		s = fmt.Sprintf("here is all the news from %s: %d new articles.", site, n)
	case n == 1:
		s = "here is the one new article in your categories."
	default:
		s = fmt.Sprintf("here are the %d new articles in your categories.", n)
	}
	if !greeted {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	return s
}

// imageAlt is the alt text of an article's lead image.
func imageAlt(a *newsletter.Article) string {
	if a.ImageAlt != "" {
		return newsletter.OneLine(a.ImageAlt)
	}
	return newsletter.OneLine(a.Title)
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
