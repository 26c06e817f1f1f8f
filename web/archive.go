package web

import (
	"context"
	"embed"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/example/newsletter"
)

// Archive is what the web archive shows: the issues that reached readers,
// each as a reader of every category got it, with nobody's name, address or
// tokens, and the full text of articles that have no page of their own.
type Archive interface {
	// Issues returns the issues, newest first.
	Issues(ctx context.Context) ([]*newsletter.Issue, error)
	// IssueHTML returns one issue and its message as an HTML document.
	IssueHTML(ctx context.Context, id int64) (*newsletter.Issue, string, error)
	// ArticleHTML returns an article and its body as HTML.
	ArticleHTML(ctx context.Context, slug string) (*newsletter.Article, template.HTML, error)
}

// WithArchive serves the web archive: / and /archive list past issues,
// /archive/N shows issue N, /articles/SLUG an article without a URL of its
// own, and /feed.xml is an Atom feed of the issues.
func WithArchive(a Archive) Option {
	return func(h *Handler) { h.archive = a }
}

//go:embed pages.html archive.html
var archiveFS embed.FS

var archivePages = template.Must(template.New("archive.html").Funcs(template.FuncMap{
	"contains": func([]string, string) bool { return false },
}).ParseFS(archiveFS, "pages.html", "archive.html"))

func (h *Handler) archiveRoutes() {
	h.mux.HandleFunc("GET /{$}", h.archiveList)
	h.mux.HandleFunc("GET /archive", h.archiveList)
	h.mux.HandleFunc("GET /archive/{id}", h.archiveIssue)
	h.mux.HandleFunc("GET /articles/{slug}", h.archiveArticle)
	h.mux.HandleFunc("GET /feed.xml", h.archiveFeed)
}

// issueLine is one issue in the list.
type issueLine struct {
	ID      int64
	Date    string
	Subject string
	More    string // the other articles' titles
}

type archiveData struct {
	Site   Site
	Title  string
	Signup bool
	Issues []issueLine
	// an article page
	Heading, Date, Categories string
	Body                      template.HTML
}

func (h *Handler) renderArchive(w http.ResponseWriter, name string, d archiveData) {
	d.Site, d.Signup = h.site, h.sendConfirm != nil
	setArchiveHeaders(w)
	if err := archivePages.ExecuteTemplate(w, name, d); err != nil {
		h.log.Error("rendering archive page", "page", name, "err", err)
	}
}

// setArchiveHeaders: archive pages show lead images and the logo, from
// https only; the rest of the policy stays as strict as on the other pages.
func setArchiveHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", pagePolicy+"; img-src https: data:")
}

func issueDate(t time.Time) string { return t.Format("2 January 2006") }

func (h *Handler) archiveList(w http.ResponseWriter, r *http.Request) {
	issues, err := h.archive.Issues(r.Context())
	if err != nil {
		h.log.Error("archive", "err", err)
		h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
		return
	}
	d := archiveData{Title: "Past issues · " + h.site.Name}
	for _, is := range issues {
		l := issueLine{ID: is.ID, Date: issueDate(is.Date), Subject: issueTitle(is)}
		if len(is.Articles) > 1 {
			var titles []string
			for _, a := range is.Articles[1:] {
				titles = append(titles, newsletter.OneLine(a.Title))
			}
			l.More = "Also: " + strings.Join(titles, "; ")
		}
		d.Issues = append(d.Issues, l)
	}
	h.renderArchive(w, "archive", d)
}

// issueTitle is an issue's title: its first article's, or its subject.
func issueTitle(is *newsletter.Issue) string {
	if len(is.Articles) > 0 {
		return newsletter.OneLine(is.Articles[0].Title)
	}
	return is.Subject
}

func (h *Handler) archiveIssue(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(w, http.StatusNotFound, "There is no such issue.")
		return
	}
	_, doc, err := h.archive.IssueHTML(r.Context(), id)
	if err != nil {
		h.archiveError(w, err, "There is no such issue.")
		return
	}
	setArchiveHeaders(w)
	w.Write([]byte(doc))
}

func (h *Handler) archiveArticle(w http.ResponseWriter, r *http.Request) {
	a, body, err := h.archive.ArticleHTML(r.Context(), r.PathValue("slug"))
	if err != nil {
		h.archiveError(w, err, "There is no such article.")
		return
	}
	if a.URL != "" {
		http.Redirect(w, r, a.URL, http.StatusFound)
		return
	}
	h.renderArchive(w, "article", archiveData{Title: newsletter.OneLine(a.Title) + " · " + h.site.Name,
		Heading: newsletter.OneLine(a.Title), Date: issueDate(a.Date), Categories: strings.Join(a.Categories, ", "), Body: body})
}

func (h *Handler) archiveError(w http.ResponseWriter, err error, notFound string) {
	if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
		h.fail(w, http.StatusNotFound, notFound)
		return
	}
	h.log.Error("archive", "err", err)
	h.fail(w, http.StatusInternalServerError, "Something went wrong on our side; please try again in a minute.")
}

// Atom (RFC 4287), only what the feed uses.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomAuthor  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomEntry struct {
	Title   string   `xml:"title"`
	ID      string   `xml:"id"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary"`
}

func (h *Handler) archiveFeed(w http.ResponseWriter, r *http.Request) {
	issues, err := h.archive.Issues(r.Context())
	if err != nil {
		h.log.Error("archive feed", "err", err)
		http.Error(w, "Something went wrong on our side; please try again in a minute.", http.StatusInternalServerError)
		return
	}
	base := strings.TrimRight(h.site.PublicURL, "/")
	f := atomFeed{Title: h.site.Name, ID: base + "/archive", Author: atomAuthor{Name: h.site.Name},
		Links:   []atomLink{{Href: base + "/feed.xml", Rel: "self", Type: "application/atom+xml"}, {Href: base + "/archive", Rel: "alternate", Type: "text/html"}},
		Updated: time.Unix(0, 0).UTC().Format(time.RFC3339)}
	for i, is := range issues {
		updated := is.Date.UTC().Format(time.RFC3339)
		if i == 0 {
			f.Updated = updated
		}
		var titles []string
		for _, a := range is.Articles {
			titles = append(titles, newsletter.OneLine(a.Title))
		}
		link := fmt.Sprintf("%s/archive/%d", base, is.ID)
		f.Entries = append(f.Entries, atomEntry{Title: issueTitle(is), ID: link, Updated: updated,
			Link: atomLink{Href: link, Rel: "alternate", Type: "text/html"}, Summary: strings.Join(titles, " · ")})
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Write([]byte(xml.Header))
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(f); err != nil {
		h.log.Error("archive feed", "err", err)
	}
}
