package articles

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/example/newsletter"
)

// DefaultMaxSize is the largest article file or feed item taken when no
// other limit is set: 1 MB.
const DefaultMaxSize = 1 << 20

// ParseFeed reads an RSS or Atom feed and returns one article per item, and
// one error per item that cannot become an article (no title, no readable
// date, too large). name is the file or URL, used in errors and as the base
// of relative links. Items larger than DefaultMaxSize are refused.
func ParseFeed(name string, src []byte, siteURL string) ([]*newsletter.Article, []error) {
	return ParseFeedLimit(name, src, siteURL, DefaultMaxSize)
}

// ParseFeedLimit is ParseFeed with a limit on the size of one item (its
// title, summary and content), in bytes; 0 means DefaultMaxSize.
//
// Each article's Key identifies the item across fetches: its guid, else its
// link, else a hash of its title and publication time, all within the feed (its site
// link, else name, in the form FeedScope gives). Items with the same key in
// one feed are one item: the first is kept, and each one dropped is reported
// among the errors. An item without a link gets no URL: siteURL is not used to
// make one up.
func ParseFeedLimit(name string, src []byte, siteURL string, maxItem int64) ([]*newsletter.Article, []error) {
	if maxItem <= 0 {
		maxItem = DefaultMaxSize
	}
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(src))
	if err != nil {
		return nil, []error{errorf(name, 0, "not an RSS or Atom feed: %v", err)}
	}
	base := feed.Link
	if base == "" {
		base = name
	}
	scope := FeedScope(feed.Link)
	if scope == "" {
		scope = FeedScope(name)
	}
	infos := scanItems(src)
	if len(infos) != len(feed.Items) {
		infos = make([]itemInfo, len(feed.Items)) // no line numbers rather than wrong ones
	}
	var out []*newsletter.Article
	var errs []error
	seen := map[string]int{} // key → item number
	for i, it := range feed.Items {
		a, err := feedArticle(it, infos[i], i, feedScope{name: name, base: base, scope: scope, maxItem: maxItem})
		switch {
		case err != nil:
			errs = append(errs, err)
		case seen[a.Key] > 0:
			// The feed repeats an item (same guid, link, or title and
			// time); the first is the one shown, and the drop is reported.
			errs = append(errs, errorf(name, infos[i].line, "item %d (%q) repeats item %d; the first is kept", i+1, clip(a.Title, 60), seen[a.Key]))
		default:
			seen[a.Key] = i + 1
			out = append(out, a)
		}
	}
	if len(feed.Items) == 0 {
		errs = append(errs, errorf(name, 0, "the feed has no items"))
	}
	return out, errs
}

// feedScope is what the items of one feed share.
type feedScope struct {
	name, base, scope string
	maxItem           int64
}

// feedArticle makes the article of the i-th item of a feed.
func feedArticle(it *gofeed.Item, info itemInfo, i int, fs feedScope) (*newsletter.Article, error) {
	it.Title = info.decode("title", it.Title)
	it.Content = info.decode("content", it.Content)
	it.Description = info.decode("summary", it.Description)
	where := fmt.Sprintf("item %d", i+1)
	title := newsletter.OneLine(htmlText(it.Title))
	if title == "" {
		return nil, errorf(fs.name, info.line, "%s has no title", where)
	}
	where += fmt.Sprintf(" (%q)", clip(title, 60))
	if n := int64(len(it.Title) + len(it.Content) + len(it.Description)); n > fs.maxItem {
		return nil, errorf(fs.name, info.line, "%s is larger than %s (%s); raise [articles] max_size to take it", where, FormatSize(fs.maxItem), FormatSize(n))
	}
	raw, parsed := it.Published, it.PublishedParsed
	if strings.TrimSpace(raw) == "" && parsed == nil {
		raw, parsed = it.Updated, it.UpdatedParsed
	}
	date, ok := feedDate(raw, parsed)
	if !ok && strings.TrimSpace(raw) == "" {
		return nil, errorf(fs.name, info.line, "%s has no publication date", where)
	} else if !ok {
		return nil, errorf(fs.name, info.line, "%s: cannot read the date %q; write it as RFC 1123 (Mon, 02 Jan 2006 15:04:05 -0700) or RFC 3339", where, clip(strings.TrimSpace(raw), 60))
	}
	content := it.Content
	if content == "" {
		content = it.Description
	}
	a := &newsletter.Article{
		Title:      title,
		Date:       time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC),
		Categories: newsletter.UniqueCategories(it.Categories),
		Body:       HTMLToMarkdown(content, fs.base),
		Source:     fs.name,
		Slug:       Slugify(title),
		URL:        resolve(fs.base, it.Link),
	}
	a.Key = itemKey(fs.scope, strings.TrimSpace(it.GUID), a.URL, title, date)
	if it.Author != nil {
		a.Author = newsletter.OneLine(it.Author.Name)
	}
	summary := htmlSummaryText(it.Description)
	if summary == "" {
		summary = htmlSummaryText(content)
	}
	a.Summary = Summarize(summary, SummaryLength)
	a.Image, a.ImageAlt = feedImage(it, fs.base)
	a.ComputeHash()
	return a, nil
}

// itemInfo is what the feed library does not tell about an item: the line
// it starts on, and the Atom 0.3 mode of its title, content and summary.
type itemInfo struct {
	line  int
	modes map[string]string // child element → mode attribute
}

// decode undoes an Atom 0.3 mode="base64" on the element's text.
func (in itemInfo) decode(elem, s string) string {
	if in.modes[elem] != "base64" {
		return s
	}
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return s
	}
	return string(b)
}

// scanItems finds the RSS items and Atom entries of a feed in document
// order. It returns nil when the document cannot be read as XML.
func scanItems(src []byte) []itemInfo {
	d := xml.NewDecoder(bytes.NewReader(src))
	d.Strict = false
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var out []itemInfo
	depth, itemDepth := 0, -1
	line, lineAt := 1, int64(0)
	for {
		off := d.InputOffset()
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				return out
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			name := strings.ToLower(t.Name.Local)
			switch {
			case itemDepth < 0 && (name == "item" || name == "entry"):
				line += bytes.Count(src[lineAt:off], []byte("\n"))
				lineAt = off
				out = append(out, itemInfo{line: line, modes: map[string]string{}})
				itemDepth = depth
			case itemDepth >= 0 && depth == itemDepth+1:
				for _, a := range t.Attr {
					if strings.EqualFold(a.Name.Local, "mode") {
						out[len(out)-1].modes[name] = strings.ToLower(strings.TrimSpace(a.Value))
					}
				}
			}
		case xml.EndElement:
			if depth == itemDepth {
				itemDepth = -1
			}
			depth--
		}
	}
}

// FormatSize writes a byte count for a person: "1 MB", "512 KB", "900 bytes".
func FormatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

func resolve(base, link string) string {
	link = strings.TrimSpace(link)
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	if b, err := url.Parse(base); err == nil && !u.IsAbs() {
		u = b.ResolveReference(u)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return ""
	}
	return u.String()
}

// maxFeed bounds what a feed download may be.
const maxFeed = 10 << 20

// FetchFeed downloads a feed over HTTP(S).
func FetchFeed(ctx context.Context, client *http.Client, rawURL string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return nil, errorf(rawURL, 0, "%v", err)
	}
	req.Header.Set("User-Agent", "newsletter (feed reader)")
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5")
	resp, err := client.Do(req)
	if err != nil {
		return nil, errorf(rawURL, 0, "cannot fetch the feed: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, errorf(rawURL, 0, "cannot fetch the feed: %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxFeed+1))
	if err != nil {
		return nil, errorf(rawURL, 0, "reading the feed: %v", err)
	}
	if len(b) > maxFeed {
		return nil, errorf(rawURL, 0, "the feed is larger than %d MB", maxFeed>>20)
	}
	return b, nil
}

// feedImage returns an item's lead image: its image element, an image
// enclosure, or Media RSS content or thumbnail that is an image.
func feedImage(it *gofeed.Item, base string) (src, alt string) {
	if it.Image != nil {
		if u := resolve(base, it.Image.URL); u != "" {
			return u, newsletter.OneLine(it.Image.Title)
		}
	}
	for _, e := range it.Enclosures {
		if strings.HasPrefix(e.Type, "image/") {
			if u := resolve(base, e.URL); u != "" {
				return u, ""
			}
		}
	}
	for _, kind := range []string{"content", "thumbnail"} {
		for _, m := range it.Extensions["media"][kind] {
			t, medium := m.Attrs["type"], m.Attrs["medium"]
			if kind == "content" && medium != "image" && !strings.HasPrefix(t, "image/") {
				continue
			}
			if u := resolve(base, m.Attrs["url"]); u != "" {
				return u, ""
			}
		}
	}
	return "", ""
}
