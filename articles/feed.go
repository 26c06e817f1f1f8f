package articles

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/example/newsletter"
)

// ParseFeed reads an RSS or Atom feed and returns one article per item, and
// one error per item that cannot become an article (no title or no date).
// name is the file or URL, used in errors and as the base of relative
// links.
func ParseFeed(name string, src []byte, siteURL string) ([]*newsletter.Article, []error) {
	feed, err := gofeed.NewParser().Parse(bytes.NewReader(src))
	if err != nil {
		return nil, []error{errorf(name, 0, "not an RSS or Atom feed: %v", err)}
	}
	base := feed.Link
	if base == "" {
		base = name
	}
	var out []*newsletter.Article
	var errs []error
	for i, it := range feed.Items {
		where := fmt.Sprintf("item %d", i+1)
		title := newsletter.OneLine(htmlText(it.Title))
		if title == "" {
			errs = append(errs, errorf(name, 0, "%s has no title", where))
			continue
		}
		where += fmt.Sprintf(" (%q)", clip(title, 60))
		date := it.PublishedParsed
		if date == nil {
			date = it.UpdatedParsed
		}
		if date == nil {
			errs = append(errs, errorf(name, 0, "%s has no publication date", where))
			continue
		}
		content := it.Content
		if content == "" {
			content = it.Description
		}
		a := &newsletter.Article{
			Slug:       Slugify(title),
			Title:      title,
			Date:       time.Date(date.Year(), date.Month(), date.Day(), 0, 0, 0, 0, time.UTC),
			Categories: newsletter.UniqueCategories(it.Categories),
			Body:       HTMLToMarkdown(content, base),
			Source:     name,
		}
		if it.Author != nil {
			a.Author = newsletter.OneLine(it.Author.Name)
		}
		summary := htmlText(it.Description)
		if summary == "" {
			summary = firstParagraphText(a.Body)
		}
		a.Summary = Summarize(summary, SummaryLength)
		a.URL = JoinURL(siteURL, a.Slug)
		if link := resolve(base, it.Link); link != "" {
			a.URL = link
		}
		a.ComputeHash()
		out = append(out, a)
	}
	if len(feed.Items) == 0 {
		errs = append(errs, errorf(name, 0, "the feed has no items"))
	}
	return out, errs
}

// htmlText returns the text of an HTML fragment, white space collapsed.
func htmlText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	md := HTMLToMarkdown(s, "")
	return strings.Join(strings.Fields(firstParagraphText(strings.ReplaceAll(md, "\n\n", " "))), " ")
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
