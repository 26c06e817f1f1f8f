package templates

import (
	"bytes"
	htmltemplate "html/template"
	"io"
	"strings"

	"github.com/example/newsletter"
)

// Message is a rendered message for one reader.
type Message struct {
	Subject string
	HTML    string
	Text    string
}

// Render personalises c for reader with links.
func (r *Renderer) Render(c *Content, reader Reader, links Links) (*Message, error) {
	var html, text bytes.Buffer
	if err := r.executeLayouts(&html, &text, c, reader, links, c.html, c.text); err != nil {
		return nil, err
	}
	return &Message{Subject: c.Subject, HTML: html.String(), Text: tidyText(text.String())}, nil
}

// executeLayouts renders reader's HTML and text layouts around content
// (c's own, or RenderSpliced's marker).
func (r *Renderer) executeLayouts(html, text io.Writer, c *Content, reader Reader, links Links, htmlContent htmltemplate.HTML, textContent string) error {
	reader.Name = newsletter.OneLine(reader.Name)
	first := FirstName(reader.Name)
	in := intro(c.Kind, r.site.Name, c.n, reader.Categories, first != "")
	if err := r.layoutHTML.Execute(html, layoutData[htmltemplate.HTML]{
		Site: r.site, Reader: reader, FirstName: first, Subject: c.Subject, Preheader: c.Preheader, Intro: in,
		Content: htmlContent, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences, BrowserURL: links.Browser,
	}); err != nil {
		return templateError(err)
	}
	if err := r.layoutText.Execute(text, layoutData[string]{
		Site: r.site, Reader: reader, FirstName: first, Subject: c.Subject, Preheader: c.Preheader, Intro: in,
		Content: textContent, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences, BrowserURL: links.Browser,
	}); err != nil {
		return templateError(err)
	}
	return nil
}

// tidyText drops trailing spaces and runs of more than one blank line.
func tidyText(s string) string {
	return strings.TrimSpace(strings.Join(tidyLines(s), "\n")) + "\n"
}

// tidyLines returns the lines of s without trailing white space and
// without the second and further blank lines of a run.
func tidyLines(s string) []string {
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
	return out
}

func clip(s string, n int) string {
	if runeLen(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// confirmData is what the confirmation templates get.
type confirmData struct {
	Site       Site
	Reader     Reader
	FirstName  string
	Subject    string
	ConfirmURL string
}

// Confirm renders the double opt-in mail asking reader to confirm at
// confirmURL.
func (r *Renderer) Confirm(reader Reader, confirmURL string) (*Message, error) {
	reader.Name = newsletter.OneLine(reader.Name)
	d := confirmData{Site: r.site, Reader: reader, FirstName: FirstName(reader.Name), ConfirmURL: confirmURL}
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
