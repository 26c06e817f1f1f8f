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
	"embed"
	htmltemplate "html/template"
	"sync"
	texttemplate "text/template"

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
	// Logo is the absolute URL of an image shown in the masthead instead of
	// the name (which becomes its alt text); optional.
	Logo string
	// Brand is a colour as #rrggbb for the masthead, links and buttons; it
	// replaces the default templates' #1f4e79. Empty keeps the default.
	Brand string
	// NameInSubject puts the site name before every subject. Off by
	// default: the From already shows it.
	NameInSubject bool
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
	// Browser is the message's page in the web archive ("View in
	// browser"); empty leaves the link out.
	Browser string
}

// Article is an article as the templates see it.
type Article struct {
	Title      string
	URL        string
	Date       string // "2 January 2006"
	Categories []string
	Summary    string
	Image      string // absolute URL of the lead image, may be empty
	ImageAlt   string // its alt text: the title unless the source gave one
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
	FirstName      string // for the greeting; empty: no greeting
	Subject        string
	Preheader      string
	Intro          string
	Content        T
	UnsubscribeURL string
	PreferencesURL string
	BrowserURL     string
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
