package templates

import (
	"bytes"
	htmltemplate "html/template"
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
	reader.Name = newsletter.OneLine(reader.Name)
	first := FirstName(reader.Name)
	in := intro(c.Kind, r.site.Name, c.n, reader.Categories, first != "")
	var html, text bytes.Buffer
	if err := r.layoutHTML.Execute(&html, layoutData[htmltemplate.HTML]{
		Site: r.site, Reader: reader, FirstName: first, Subject: c.Subject, Preheader: c.Preheader, Intro: in,
		Content: c.html, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences, BrowserURL: links.Browser,
	}); err != nil {
		return nil, templateError(err)
	}
	if err := r.layoutText.Execute(&text, layoutData[string]{
		Site: r.site, Reader: reader, FirstName: first, Subject: c.Subject, Preheader: c.Preheader, Intro: in,
		Content: c.text, UnsubscribeURL: links.Unsubscribe, PreferencesURL: links.Preferences, BrowserURL: links.Browser,
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
