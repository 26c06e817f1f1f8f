package articles

import (
	"bytes"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/example/newsletter"
)

// Post is an article in the plain-text post format, before it becomes a
// newsletter.Article.
type Post struct {
	Date       time.Time
	Title      string
	Paragraphs []string
	Categories []string
}

// dateLayouts are the accepted forms of a post's date line.
var dateLayouts = []string{"January 2, 2006", "Jan 2, 2006", "2006-01-02"}

// ParseDate parses a date in one of the accepted forms, as midnight UTC.
func ParseDate(s string) (time.Time, bool) {
	s = strings.Join(strings.Fields(s), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

const categoriesPrefix = "categories:"

func isCategoriesLine(s string) bool {
	return len(s) >= len(categoriesPrefix) && strings.EqualFold(s[:len(categoriesPrefix)], categoriesPrefix)
}

type numberedLine struct {
	n    int
	text string
}

// ParsePost parses the plain-text post format. name is used in errors only.
// A UTF-8 BOM, CRLF line ends, trailing spaces and blank lines are accepted.
func ParsePost(name string, src []byte) (*Post, error) {
	if !utf8.Valid(src) {
		return nil, errorf(name, 0, "not UTF-8 text")
	}
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	var lines []numberedLine
	for i, l := range strings.Split(string(src), "\n") {
		l = strings.TrimSpace(strings.TrimRight(l, "\r"))
		if l != "" {
			lines = append(lines, numberedLine{i + 1, l})
		}
	}
	if len(lines) == 0 {
		return nil, errorf(name, 0, "empty file: expected a date line, a title line and paragraphs")
	}
	first := lines[0]
	if isCategoriesLine(first.text) {
		return nil, errorf(name, first.n, "expected a publication date (e.g. %q), found only a Categories line", "March 4, 2025")
	}
	date, ok := ParseDate(first.text)
	if !ok {
		return nil, errorf(name, first.n, "cannot read %q as a date; use \"January 2, 2006\", \"Jan 2, 2006\" or \"2006-01-02\"", clip(first.text, 60))
	}
	p := &Post{Date: date}
	if len(lines) < 2 {
		return nil, errorf(name, first.n+1, "expected a title line after the date")
	}
	title := lines[1]
	if isCategoriesLine(title.text) {
		return nil, errorf(name, title.n, "expected a title line after the date, found the Categories line")
	}
	p.Title = title.text
	rest := lines[2:]
	if n := len(rest); n > 0 && isCategoriesLine(rest[n-1].text) {
		p.Categories = newsletter.SplitCategories(rest[n-1].text[len(categoriesPrefix):], ",")
		rest = rest[:n-1]
	}
	for _, l := range rest {
		p.Paragraphs = append(p.Paragraphs, l.text)
	}
	return p, nil
}

// Format writes p in the post format; ParsePost reads it back to an equal
// Post.
func (p *Post) Format() []byte {
	var b strings.Builder
	b.WriteString(p.Date.Format("January 2, 2006"))
	b.WriteString("\n")
	b.WriteString(p.Title)
	b.WriteString("\n")
	for _, para := range p.Paragraphs {
		b.WriteString(para)
		b.WriteString("\n")
	}
	if len(p.Categories) > 0 {
		b.WriteString("Categories: ")
		b.WriteString(strings.Join(p.Categories, ", "))
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// Article converts the post into an article whose URL is joined to siteURL.
func (p *Post) Article(source, siteURL string) *newsletter.Article {
	body := make([]string, len(p.Paragraphs))
	for i, para := range p.Paragraphs {
		body[i] = EscapeMarkdown(para)
	}
	a := &newsletter.Article{
		Key:        "post:" + p.Date.Format(newsletter.DateLayout) + ":" + p.Title,
		Slug:       Slugify(p.Title),
		Title:      p.Title,
		Date:       p.Date,
		Categories: p.Categories,
		Body:       strings.Join(body, "\n\n"),
		Source:     source,
	}
	if len(p.Paragraphs) > 0 {
		a.Summary = Summarize(p.Paragraphs[0], SummaryLength)
	}
	a.URL = JoinURL(siteURL, a.Slug)
	a.SlugURL = a.URL != ""
	a.ComputeHash()
	return a
}

// EscapeMarkdown escapes the characters Markdown would read as syntax, so
// text from a post stays literal when rendered. It expects one line.
func EscapeMarkdown(s string) string {
	var b strings.Builder
	digits := 0 // leading digits: "1." or "1)" would start a list
	for i, r := range s {
		switch {
		case strings.ContainsRune("\\`*_[]<>#|~&!", r):
			b.WriteByte('\\')
		case i == 0 && strings.ContainsRune("+-=", r):
			b.WriteByte('\\')
		case i == digits && i > 0 && (r == '.' || r == ')'):
			b.WriteByte('\\')
		}
		if r >= '0' && r <= '9' && i == digits {
			digits++
		}
		b.WriteRune(r)
	}
	return b.String()
}

func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n]) + "…"
}
