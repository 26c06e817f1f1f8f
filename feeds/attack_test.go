package feeds_test

// Attack tests (branch attack13): feeds written by hostile or careless
// publishers, fetched from local servers into real SQLite files.

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/feeds"
	"github.com/example/newsletter/sqlite"
)

// rss makes an RSS 2.0 document with the given channel link and items.
func rss(channelLink string, items ...string) string {
	return `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title><link>` + channelLink + `</link>
` + strings.Join(items, "\n") + `
</channel></rss>
`
}

func item(title, guid, link, date, body string) string {
	s := "<item><title>" + title + "</title>"
	if guid != "" {
		s += "<guid isPermaLink=\"false\">" + guid + "</guid>"
	}
	if link != "" {
		s += "<link>" + link + "</link>"
	}
	return s + "<pubDate>" + date + "</pubDate><description>" + body + "</description></item>"
}

// mutable serves whatever body is set, with no validators.
type mutable struct {
	mu   sync.Mutex
	body string
	hits int
}

func (m *mutable) set(s string) { m.mu.Lock(); m.body = s; m.mu.Unlock() }

func (m *mutable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.hits++
	w.Write([]byte(m.body))
}

func serve(t *testing.T, h http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts.URL
}

func fetch(t *testing.T, db *sqlite.DB, fd feeds.Feed) feeds.FeedResult {
	t.Helper()
	f := &feeds.Fetcher{}
	r := f.Fetch(context.Background(), db, fd)
	return r
}

func all(t *testing.T, db *sqlite.DB) []*newsletter.Article {
	t.Helper()
	as, err := db.Articles(context.Background(), newsletter.ArticleFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

const d1 = "Mon, 30 Nov 2026 08:00:00 +0000"

// FAILS: a second article whose title slug is taken gets a suffixed slug,
// and setSlug (sqlite/articles.go) rewrites its URL too when the item's own
// link happens to end with "/"+slug — a link to another site's page that
// does not exist.
func TestAttack_SlugCollisionRewritesPublisherLink(t *testing.T) {
	db := mustOpenDB(t)
	a, b := &mutable{}, &mutable{}
	a.set(rss("https://a.example/", item("Hello World", "a1", "https://a.example/hello-world", d1, "From A.")))
	b.set(rss("https://b.example/", item("Hello World", "b1", "https://b.example/posts/hello-world", d1, "From B.")))
	if r := fetch(t, db, feeds.Feed{Name: "a", URL: serve(t, a)}); r.Err != nil || r.Added != 1 {
		t.Fatalf("a: %+v", r)
	}
	if r := fetch(t, db, feeds.Feed{Name: "b", URL: serve(t, b)}); r.Err != nil || r.Added != 1 {
		t.Fatalf("b: %+v", r)
	}
	for _, art := range all(t, db) {
		t.Logf("stored slug=%s url=%s", art.Slug, art.URL)
		if strings.Contains(art.Body, "From B") && art.URL != "https://b.example/posts/hello-world" {
			t.Errorf("B's item links to %q; the feed says https://b.example/posts/hello-world", art.URL)
		}
	}
}

// FAILS: an edited item (same guid) whose publisher changed both title and
// link keeps its stored slug (fine), but its new link is rewritten to end in
// the old slug — again setSlug in sqlite/articles.go.
func TestAttack_EditedTitleAndLinkKeepsNewLink(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "blog", URL: serve(t, m)}
	m.set(rss("https://blog.example/", item("Draft title", "g1", "https://blog.example/draft-title", d1, "v1")))
	if r := fetch(t, db, fd); r.Err != nil || r.Added != 1 {
		t.Fatalf("first: %+v", r)
	}
	m.set(rss("https://blog.example/", item("Final title", "g1", "https://blog.example/final-title", d1, "v2")))
	if r := fetch(t, db, fd); r.Err != nil || r.Updated != 1 {
		t.Fatalf("second: %+v", r)
	}
	as := all(t, db)
	if len(as) != 1 {
		t.Fatalf("%d articles", len(as))
	}
	t.Logf("stored slug=%s url=%s title=%s", as[0].Slug, as[0].URL, as[0].Title)
	if as[0].Slug != "draft-title" {
		t.Errorf("slug changed to %q; an old slug's URL would break", as[0].Slug)
	}
	if as[0].URL != "https://blog.example/final-title" {
		t.Errorf("URL = %q; the feed's link is https://blog.example/final-title (the old one may 404 now)", as[0].URL)
	}
}

// FAILS: items without guid or link are keyed by title and *day*. Two
// different items with one title on one day ("Status update" morning and
// evening) are one key: the evening item overwrites the stored morning one
// (and in one fetch, the second is silently dropped — not even Skipped).
func TestAttack_SameTitleSameDayNoGuidOverwrites(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "status", URL: serve(t, m)}
	morning := item("Status update", "", "", "Mon, 30 Nov 2026 09:00:00 +0000", "Morning: all systems down.")
	evening := item("Status update", "", "", "Mon, 30 Nov 2026 17:00:00 +0000", "Evening: all systems up.")
	m.set(rss("https://status.example/", morning))
	if r := fetch(t, db, fd); r.Err != nil || r.Added != 1 {
		t.Fatalf("first: %+v", r)
	}
	m.set(rss("https://status.example/", evening, morning))
	r := fetch(t, db, fd)
	t.Logf("second fetch: added=%d updated=%d unchanged=%d skipped=%v", r.Added, r.Updated, r.Unchanged, r.Skipped)
	as := all(t, db)
	var bodies []string
	for _, a := range as {
		bodies = append(bodies, a.Body)
	}
	joined := strings.Join(bodies, " | ")
	t.Logf("stored: %s", joined)
	if !strings.Contains(joined, "Morning") || !strings.Contains(joined, "Evening") {
		t.Errorf("two different items, %d article(s) stored: %s", len(as), joined)
	}
}

// FAILS: the key's scope is the channel <link> the feed reports about
// itself. When a site moves to https (or adds a trailing slash, or changes
// its <link> at all), every guid is "new": each item is stored a second
// time under a date-suffixed slug and mailed again.
func TestAttack_ChannelLinkChangeDuplicatesEveryItem(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "blog", URL: serve(t, m)}
	it := item("Hello", "tag:blog.example,2026:1", "https://blog.example/hello", d1, "Hi.")
	m.set(rss("http://blog.example", it))
	if r := fetch(t, db, fd); r.Err != nil || r.Added != 1 {
		t.Fatalf("first: %+v", r)
	}
	m.set(rss("https://blog.example/", it))
	r := fetch(t, db, fd)
	as := all(t, db)
	t.Logf("second fetch: %+v; %d articles", r, len(as))
	if r.Added != 0 || len(as) != 1 {
		t.Errorf("the same guid after a <link> change: %d added, %d articles stored", r.Added, len(as))
	}
}

// Also FAILS for the same reason: a feed without a channel <link> is scoped
// by its URL, so moving the [[feed]] url (http→https, a redirect target)
// duplicates every item.
func TestAttack_FeedURLChangeDuplicatesEveryItem(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	base := serve(t, m)
	it := item("Hello", "tag:blog.example,2026:1", "https://blog.example/hello", d1, "Hi.")
	m.set(`<?xml version="1.0"?><rss version="2.0"><channel><title>Blog</title>` + it + `</channel></rss>`)
	if r := fetch(t, db, feeds.Feed{Name: "blog", URL: base + "/feed"}); r.Err != nil || r.Added != 1 {
		t.Fatalf("first: %+v", r)
	}
	r := fetch(t, db, feeds.Feed{Name: "blog", URL: base + "/feed/"})
	as := all(t, db)
	t.Logf("after url change: %+v; %d articles", r, len(as))
	if r.Added != 0 || len(as) != 1 {
		t.Errorf("the same guid after the feed url changed: %d added, %d articles", r.Added, len(as))
	}
}

// FAILS: two [[feed]] entries of one site (category feeds share the channel
// link) carrying the same guid are one article — but each fetch replaces
// its categories with that feed's, so the article flips between them and
// every fetch counts an "edit".
func TestAttack_SameGuidTwoFeedsFlipsCategories(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	m.set(rss("https://blog.example/", item("Hello", "g1", "https://blog.example/hello", d1, "Hi.")))
	u := serve(t, m)
	a := feeds.Feed{Name: "tech", URL: u + "/tech", Categories: []string{"Tech"}}
	b := feeds.Feed{Name: "news", URL: u + "/news", Categories: []string{"News"}}
	fetch(t, db, a)
	fetch(t, db, b)
	r := fetch(t, db, a)
	as := all(t, db)
	t.Logf("third fetch: added=%d updated=%d unchanged=%d; %d articles, categories %v", r.Added, r.Updated, r.Unchanged, len(as), as[0].Categories)
	if r.Updated != 0 {
		t.Errorf("an unchanged item counted as edited (%d) after another feed stored it", r.Updated)
	}
	if len(as) == 1 && !(contains(as[0].Categories, "Tech") && contains(as[0].Categories, "News")) {
		t.Errorf("categories %v: the other feed's category was dropped", as[0].Categories)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Holds: two unrelated feeds using guid "1" are two articles.
func TestAttack_SameGuidDifferentSites(t *testing.T) {
	db := mustOpenDB(t)
	a, b := &mutable{}, &mutable{}
	a.set(rss("https://a.example/", item("A post", "1", "", d1, "A")))
	b.set(rss("https://b.example/", item("B post", "1", "", d1, "B")))
	fetch(t, db, feeds.Feed{Name: "a", URL: serve(t, a)})
	fetch(t, db, feeds.Feed{Name: "b", URL: serve(t, b)})
	if as := all(t, db); len(as) != 2 {
		t.Errorf("%d articles", len(as))
	}
}

// Documented behaviour, recorded: guids that change on every fetch make
// every fetch add every item again.
func TestAttack_GuidNoise(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "noisy", URL: serve(t, m)}
	for i := 0; i < 3; i++ {
		m.set(rss("https://n.example/", item("Same post", fmt.Sprintf("rand-%d", i), "https://n.example/same", d1, "x")))
		r := fetch(t, db, fd)
		t.Logf("fetch %d: added=%d", i, r.Added)
	}
	t.Logf("%d articles after 3 fetches of one post with changing guids", len(all(t, db)))
}

// Holds: a guid reused for a different item updates the old article
// (by design: guid is identity).
func TestAttack_GuidReused(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "blog", URL: serve(t, m)}
	m.set(rss("https://blog.example/", item("First post", "1", "", d1, "one")))
	fetch(t, db, fd)
	m.set(rss("https://blog.example/", item("Totally different", "1", "", "Tue, 01 Dec 2026 08:00:00 +0000", "two")))
	r := fetch(t, db, fd)
	as := all(t, db)
	t.Logf("reused guid: %+v; %d articles; title %q slug %q", r, len(as), as[0].Title, as[0].Slug)
}

// Holds: the feed changes type between requests (RSS, then Atom with the
// same ids and alternate link): nothing is added twice.
func TestAttack_RSSThenAtom(t *testing.T) {
	db := mustOpenDB(t)
	m := &mutable{}
	fd := feeds.Feed{Name: "blog", URL: serve(t, m)}
	m.set(rss("https://blog.example/", item("Hello", "urn:x:1", "https://blog.example/hello", d1, "Hi.")))
	fetch(t, db, fd)
	m.set(`<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Blog</title><link rel="alternate" href="https://blog.example/"/><id>urn:x</id><updated>2026-11-30T08:00:00Z</updated>
<entry><title>Hello</title><id>urn:x:1</id><link href="https://blog.example/hello"/><published>2026-11-30T08:00:00Z</published><updated>2026-11-30T08:00:00Z</updated><summary>Hi.</summary></entry></feed>`)
	r := fetch(t, db, fd)
	if r.Err != nil || r.Added != 0 || len(all(t, db)) != 1 {
		t.Errorf("atom after rss: %+v, %d articles", r, len(all(t, db)))
	}
}

// Holds: a gzip bomb is read only to the size limit; nothing stored.
func TestAttack_GzipBomb(t *testing.T) {
	db := mustOpenDB(t)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(rss("https://b.example/", item("x", "1", "", d1, "y"))[:60]))
	zero := make([]byte, 1<<20)
	for i := 0; i < 64; i++ {
		zw.Write(zero)
	}
	zw.Close()
	bomb := buf.Bytes()
	u := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write(bomb)
	}))
	f := &feeds.Fetcher{MaxFeed: 1 << 20}
	r := f.Fetch(context.Background(), db, feeds.Feed{Name: "bomb", URL: u})
	t.Logf("bomb (%d bytes compressed): err=%v", len(bomb), r.Err)
	if r.Err == nil || len(all(t, db)) != 0 {
		t.Errorf("bomb accepted: %+v", r)
	}
}

// Holds: a streamed response with no Content-Length over the limit.
func TestAttack_NoContentLengthOverLimit(t *testing.T) {
	db := mustOpenDB(t)
	u := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(rss("https://b.example/", item("x", "1", "", d1, "y"))[:60]))
		chunk := bytes.Repeat([]byte("<!-- pad -->"), 1000)
		for i := 0; i < 200; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	f := &feeds.Fetcher{MaxFeed: 1 << 20}
	r := f.Fetch(context.Background(), db, feeds.Feed{Name: "big", URL: u})
	if r.Err == nil || !strings.Contains(r.Err.Error(), "larger") {
		t.Errorf("over-limit stream: %+v", r)
	}
}

// Redirects: to another host is followed (recorded); to file:// fails and
// stores nothing.
func TestAttack_Redirects(t *testing.T) {
	db := mustOpenDB(t)
	other := &mutable{}
	other.set(rss("https://o.example/", item("Elsewhere", "e1", "", d1, "x")))
	ou := serve(t, other)
	u := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/file" {
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
			return
		}
		http.Redirect(w, r, ou+"/feed", http.StatusMovedPermanently)
	}))
	r := fetch(t, db, feeds.Feed{Name: "moved", URL: u + "/feed"})
	t.Logf("cross-host redirect: added=%d err=%v", r.Added, r.Err)
	r = fetch(t, db, feeds.Feed{Name: "file", URL: u + "/file"})
	if r.Err == nil {
		t.Errorf("file:// redirect: %+v", r)
	}
	t.Logf("file redirect: %v", r.Err)
}

// Holds: 304 on the first fetch (no validators sent) stores nothing and is
// not an error; changing ETags with the same content count as unchanged.
func TestAttack_304AndETagChurn(t *testing.T) {
	db := mustOpenDB(t)
	u := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotModified) }))
	r := fetch(t, db, feeds.Feed{Name: "x", URL: u})
	t.Logf("bare 304: %+v", r)
	n := 0
	body := rss("https://e.example/", item("E", "e", "", d1, "x"))
	u2 := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		w.Header().Set("ETag", fmt.Sprintf(`"%d"`, n))
		w.Write([]byte(body))
	}))
	fetch(t, db, feeds.Feed{Name: "e", URL: u2})
	r = fetch(t, db, feeds.Feed{Name: "e", URL: u2})
	if r.Unchanged != 1 || r.Added+r.Updated != 0 {
		t.Errorf("etag churn: %+v", r)
	}
}

// Load: 10,000 items in one feed.
func TestAttack_TenThousandItems(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	db := mustOpenDB(t)
	var items []string
	for i := 0; i < 10000; i++ {
		items = append(items, item(fmt.Sprintf("Post %d", i%100), fmt.Sprintf("g%d", i), "", d1, "x"))
	}
	m := &mutable{}
	m.set(rss("https://big.example/", items...))
	start := time.Now()
	r := fetch(t, db, feeds.Feed{Name: "big", URL: serve(t, m)})
	t.Logf("10,000 items (100 titles): added=%d err=%v in %s", r.Added, r.Err, time.Since(start))
	if r.Err != nil || r.Added != 10000 {
		t.Errorf("%+v", r.Err)
	}
	start = time.Now()
	r = fetch(t, db, feeds.Feed{Name: "big", URL: serve(t, m)})
	t.Logf("refetch: unchanged=%d in %s", r.Unchanged, time.Since(start))
}

// FAILS (quadratic): items sharing one title and day each walk the
// slug-DATE-N sequence from the start (uniqueSlug in sqlite/articles.go
// runs one query per taken slug), so n such items cost n²/2 queries inside
// the fetch's 30 s timeout.
func TestAttack_SameTitleQuadratic(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	for _, n := range []int{500, 2000} {
		db := mustOpenDB(t)
		var items []string
		for i := 0; i < n; i++ {
			items = append(items, item("Status update", fmt.Sprintf("g%d", i), "", d1, "x"))
		}
		m := &mutable{}
		m.set(rss("https://big.example/", items...))
		start := time.Now()
		r := fetch(t, db, feeds.Feed{Name: "big", URL: serve(t, m)})
		el := time.Since(start)
		t.Logf("%d items with one title: added=%d err=%v in %s", n, r.Added, r.Err, el)
		if n == 2000 && el > 3*time.Second {
			t.Errorf("%d same-title items took %s (10,000 would exceed the 30 s fetch timeout and the feed would never be stored)", n, el)
		}
	}
}

// FAILS, the consequence: with a shorter timeout standing in for the 30 s
// one, a feed of many same-title items never gets stored at all — every
// fetch times out inside StoreFeed and rolls back.
func TestAttack_SameTitleFeedNeverStored(t *testing.T) {
	db := mustOpenDB(t)
	var items []string
	for i := 0; i < 1000; i++ {
		items = append(items, item("Status update", fmt.Sprintf("g%d", i), "", d1, "x"))
	}
	m := &mutable{}
	m.set(rss("https://big.example/", items...))
	f := &feeds.Fetcher{Timeout: 1500 * time.Millisecond}
	r := f.Fetch(context.Background(), db, feeds.Feed{Name: "big", URL: serve(t, m)})
	t.Logf("1000 same-title items, 1.5 s timeout: added=%d err=%v; %d stored", r.Added, r.Err, len(all(t, db)))
	if r.Err != nil {
		t.Errorf("a 1000-item feed cannot be stored within the timeout: %v", r.Err)
	}
}
