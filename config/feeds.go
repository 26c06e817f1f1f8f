package config

import (
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
	"github.com/example/newsletter/feeds"
)

// Articles limits what is taken in as an article.
type Articles struct {
	MaxSize string `toml:"max_size"` // "1 MB", "512 KB" or bytes; "" means 1 MB
}

// Feed is one [[feed]] entry.
type Feed struct {
	Name       string   `toml:"name"`
	URL        string   `toml:"url"`
	Categories []string `toml:"categories"`
	List       string   `toml:"list"`
}

// MaxArticleSize returns [articles] max_size in bytes.
func (c *Config) MaxArticleSize() (int64, error) {
	s := strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(c.Articles.MaxSize), " ", ""))
	if s == "" {
		return articles.DefaultMaxSize, nil
	}
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, newsletter.Errorf(newsletter.EINVALID, "articles.max_size %q: write a size like \"1 MB\", \"512 KB\" or a number of bytes", c.Articles.MaxSize)
	}
	return n * mult, nil
}

// validateFeeds checks [articles] and the [[feed]] entries.
func (c *Config) validateFeeds() error {
	if _, err := c.MaxArticleSize(); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, f := range c.Feeds {
		if f.Name == "" {
			return newsletter.Errorf(newsletter.EINVALID, "feed %d has no name", i+1)
		}
		if seen[f.Name] {
			return newsletter.Errorf(newsletter.EINVALID, "feed %q appears twice; give each [[feed]] its own name", f.Name)
		}
		seen[f.Name] = true
		if u, err := url.Parse(f.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return newsletter.Errorf(newsletter.EINVALID, "feed %q: url %q must be an http:// or https:// address", f.Name, f.URL)
		}
	}
	return nil
}

// FeedList returns the [[feed]] entries.
func (c *Config) FeedList() []feeds.Feed {
	out := make([]feeds.Feed, len(c.Feeds))
	for i, f := range c.Feeds {
		out[i] = feeds.Feed{Name: f.Name, URL: f.URL, Categories: f.Categories, List: f.List}
	}
	return out
}

// FeedsNamed returns the [[feed]] entries of the names given, in their
// order, or all of them when none is given. A name no entry has is an
// ENOTFOUND error that names the feeds there are.
func (c *Config) FeedsNamed(names []string) ([]feeds.Feed, error) {
	all := c.FeedList()
	if len(names) == 0 {
		return all, nil
	}
	byName := map[string]feeds.Feed{}
	var known []string
	for _, f := range all {
		byName[f.Name] = f
		known = append(known, f.Name)
	}
	var out []feeds.Feed
	for _, n := range names {
		f, ok := byName[n]
		if !ok {
			return nil, newsletter.Errorf(newsletter.ENOTFOUND, "no [[feed]] named %q (feeds: %s)", n, strings.Join(known, ", "))
		}
		out = append(out, f)
	}
	return out, nil
}

// Fetcher returns the feed fetcher the config describes.
func (c *Config) Fetcher() *feeds.Fetcher {
	max, _ := c.MaxArticleSize() // checked when the config loaded
	return &feeds.Fetcher{SiteURL: c.Site.URL, MaxItem: max}
}

// ArticleLoader returns the loader of `articles add`: the site's URL and
// [articles] max_size, with stdin read for the source "-".
func (c *Config) ArticleLoader(stdin io.Reader) *articles.Loader {
	max, _ := c.MaxArticleSize() // checked when the config loaded
	return &articles.Loader{SiteURL: c.Site.URL, Stdin: stdin, MaxSize: max}
}
