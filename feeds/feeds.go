// Package feeds polls the RSS and Atom feeds of the config's [[feed]]
// entries and stores their items as articles: politely (conditional GET with
// ETag and Last-Modified, a timeout, a size limit, a User-Agent that says who
// asks) and safely (each fetch's items and validators are stored in one
// transaction, so a failed fetch changes nothing).
package feeds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
)

// Feed is one [[feed]] entry.
type Feed struct {
	Name       string
	URL        string
	Categories []string // added to every item's own
	List       string   // the list whose schedule fetches it; "" for every list
}

// Store keeps what a fetch learns. sqlite.DB implements it.
type Store interface {
	// FeedValidators returns the ETag and Last-Modified of the last stored
	// fetch of the feed name from url ("" when there is none).
	FeedValidators(ctx context.Context, name, url string) (etag, lastModified string, err error)
	// StoreFeed stores one fetch's articles and validators in one
	// transaction.
	StoreFeed(ctx context.Context, name, url, etag, lastModified string, as []*newsletter.Article) ([]newsletter.UpsertResult, error)
}

// Defaults of a Fetcher's zero fields.
const (
	DefaultTimeout   = 30 * time.Second
	DefaultMaxFeed   = 10 << 20 // bytes of one feed document
	DefaultUserAgent = "newsletter-feed-fetcher/1"
)

// Fetcher fetches feeds. The zero value works; set SiteURL so the
// User-Agent names a contact.
type Fetcher struct {
	Client    *http.Client  // nil: a client with Timeout
	Timeout   time.Duration // per feed; 0 means DefaultTimeout
	MaxFeed   int64         // bytes of one feed; 0 means DefaultMaxFeed
	MaxItem   int64         // bytes of one item; 0 means articles.DefaultMaxSize
	SiteURL   string        // put in the User-Agent, so a feed's owner knows who polls
	UserAgent string        // "" means DefaultUserAgent and SiteURL
}

// FeedResult is what fetching one feed did.
type FeedResult struct {
	Name        string
	NotModified bool    // the server answered 304: nothing to read
	Added       int     // new items
	Updated     int     // items edited since the last fetch
	Unchanged   int     // items stored before, as they are
	Skipped     []error // items that could not become articles (FILE:LINE: reason); the others are stored
	Err         error   // the feed could not be fetched or read; nothing of it was stored
}

// Result is what FetchAll did, one FeedResult per feed in order.
type Result struct {
	Feeds []FeedResult
}

// Added is the number of new items over all feeds.
func (r Result) Added() int {
	n := 0
	for _, f := range r.Feeds {
		n += f.Added
	}
	return n
}

// FetchAll fetches each feed in turn and stores its items. A feed that
// fails does not stop the others; the error names every feed that failed.
// It stops early only when ctx is done.
func (f *Fetcher) FetchAll(ctx context.Context, store Store, feeds []Feed) (Result, error) {
	var res Result
	var errs []error
	for _, fd := range feeds {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		r := f.Fetch(ctx, store, fd)
		res.Feeds = append(res.Feeds, r)
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	if len(errs) > 0 {
		return res, newsletter.Errorf(newsletter.EINVALID, "%s", errors.Join(errs...).Error())
	}
	return res, nil
}

// Fetch fetches one feed with a conditional GET and stores its items with
// the feed's categories added.
func (f *Fetcher) Fetch(ctx context.Context, store Store, fd Feed) FeedResult {
	r := FeedResult{Name: fd.Name}
	fail := func(format string, args ...any) FeedResult {
		r.Err = newsletter.Errorf(newsletter.EINVALID, "feed %q (%s): %s", fd.Name, fd.URL, fmt.Sprintf(format, args...))
		return r
	}
	etag, lastModified, err := store.FeedValidators(ctx, fd.Name, fd.URL)
	if err != nil {
		r.Err = err
		return r
	}
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fd.URL, nil)
	if err != nil {
		return fail("%v; check url in its [[feed]] entry", err)
	}
	req.Header.Set("User-Agent", f.userAgent())
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	if lastModified != "" {
		req.Header.Set("If-Modified-Since", lastModified)
	}
	body, notModified, resp, err := f.get(req, timeout)
	if err != nil {
		return fail("%s", err)
	}
	if notModified {
		r.NotModified = true
		return r
	}
	list, itemErrs := articles.ParseFeedLimit(fd.URL, body, f.SiteURL, f.MaxItem)
	if len(list) == 0 && len(itemErrs) > 0 {
		r.Err = newsletter.Errorf(newsletter.EINVALID, "feed %q: %s", fd.Name, errors.Join(itemErrs...).Error())
		return r
	}
	r.Skipped = itemErrs
	for _, a := range list {
		if len(fd.Categories) > 0 {
			a.Categories = newsletter.UniqueCategories(append(a.Categories, fd.Categories...))
			a.Added = fd.Categories
			a.ComputeHash()
		}
	}
	results, err := store.StoreFeed(ctx, fd.Name, fd.URL, resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), list)
	if err != nil {
		r.Err = err
		return r
	}
	for _, res := range results {
		switch res {
		case newsletter.Added:
			r.Added++
		case newsletter.Updated:
			r.Updated++
		default:
			r.Unchanged++
		}
	}
	return r
}

// get does the request and reads the body within the size limit. A 304
// returns notModified; an error says what to do.
func (f *Fetcher) get(req *http.Request, timeout time.Duration) (body []byte, notModified bool, resp *http.Response, err error) {
	client := f.Client
	if client == nil {
		client = &http.Client{Timeout: timeout}
	}
	resp, err = client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return nil, false, nil, fmt.Errorf("no answer within %s; try again later", timeout)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, false, nil, fmt.Errorf("cannot fetch it: %w; check url in its [[feed]] entry, or try again later", err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, true, resp, nil
	case resp.StatusCode != http.StatusOK:
		return nil, false, nil, fmt.Errorf("the server answered %s; check url in its [[feed]] entry", resp.Status)
	}
	maxFeed := f.MaxFeed
	if maxFeed <= 0 {
		maxFeed = DefaultMaxFeed
	}
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxFeed+1))
	if err != nil {
		return nil, false, nil, fmt.Errorf("reading it: %w", err)
	}
	if int64(len(body)) > maxFeed {
		return nil, false, nil, fmt.Errorf("the feed is larger than %s", articles.FormatSize(maxFeed))
	}
	return body, false, resp, nil
}

func (f *Fetcher) userAgent() string {
	if f.UserAgent != "" {
		return f.UserAgent
	}
	if f.SiteURL != "" {
		return DefaultUserAgent + " (+" + strings.TrimSpace(f.SiteURL) + ")"
	}
	return DefaultUserAgent
}

// ForList returns the feeds a schedule of list fetches: those of that list
// and those of no list.
func ForList(feeds []Feed, list string) []Feed {
	var out []Feed
	for _, fd := range feeds {
		if fd.List == "" || fd.List == list {
			out = append(out, fd)
		}
	}
	return out
}
