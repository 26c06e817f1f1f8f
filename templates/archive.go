package templates

import (
	htmltemplate "html/template"

	"github.com/example/newsletter"
)

// BodyHTML renders an article's Markdown as HTML for a web page: the same
// HTML as in mail (raw HTML dropped, links absolute, headings below the
// title, images at the column width) without the mail's inline styles.
func (r *Renderer) BodyHTML(a *newsletter.Article) (htmltemplate.HTML, error) {
	s, err := r.md.HTML(a.Body)
	return htmltemplate.HTML(s), err // goldmark output: raw HTML dropped, text escaped
}

// Archived renders a past message of kind for articles as a reader of
// every category sees it, for the web archive: no reader, no links of
// anyone's, no preheader.
func (r *Renderer) Archived(kind string, arts []*newsletter.Article) (*Message, error) {
	c, err := r.Content(kind, arts)
	if err != nil {
		return nil, err
	}
	return r.Render(c, Reader{}, Links{})
}
