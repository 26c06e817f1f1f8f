package feeds_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/feeds"
	"github.com/example/newsletter/sqlite"
)

func mustOpenDB(tb testing.TB) *sqlite.DB {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(tb.TempDir(), "test.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

const feedXML = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Blog</title><link>https://blog.example.org/</link>
<item><title>Hello</title><guid>h1</guid><pubDate>Mon, 30 Nov 2026 08:00:00 +0000</pubDate><category>Notes</category><description>Hi.</description></item>
</channel></rss>
`

// server serves body with an ETag and answers 304 to a matching
// If-None-Match; it records each request's User-Agent and status.
type server struct {
	mu     sync.Mutex
	body   string
	status []int
	agents []string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.agents = append(s.agents, r.UserAgent())
	etag := fmt.Sprintf(`"%x"`, sha256.Sum256([]byte(s.body)))
	if r.Header.Get("If-None-Match") == etag {
		s.status = append(s.status, 304)
		w.WriteHeader(http.StatusNotModified)
		return
	}
	s.status = append(s.status, 200)
	w.Header().Set("ETag", etag)
	w.Write([]byte(s.body))
}

func TestFetch(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	srv := &server{body: feedXML}
	ts := httptest.NewServer(srv)
	defer ts.Close()
	f := &feeds.Fetcher{SiteURL: "https://example.org"}
	blog := feeds.Feed{Name: "blog", URL: ts.URL + "/feed.xml", Categories: []string{"Blog"}}

	res, err := f.FetchAll(ctx, db, []feeds.Feed{blog})
	if err != nil || res.Feeds[0].Added != 1 {
		t.Fatalf("first fetch: %+v %v", res, err)
	}
	all, _ := db.Articles(ctx, newsletter.ArticleFilter{})
	if len(all) != 1 || strings.Join(all[0].Categories, ",") != "Notes,Blog" {
		t.Fatalf("articles %+v", all)
	}
	t.Run("ConditionalGet", func(t *testing.T) {
		res, err := f.FetchAll(ctx, db, []feeds.Feed{blog})
		if err != nil || !res.Feeds[0].NotModified || srv.status[len(srv.status)-1] != 304 {
			t.Fatalf("second fetch: %+v %v %v", res, err, srv.status)
		}
	})
	t.Run("UserAgent", func(t *testing.T) {
		if ua := srv.agents[0]; !strings.HasPrefix(ua, "newsletter") || !strings.Contains(ua, "https://example.org") {
			t.Errorf("User-Agent %q", ua)
		}
	})
	t.Run("ErrTooLarge", func(t *testing.T) {
		small := &feeds.Fetcher{MaxFeed: 100}
		_, err := small.FetchAll(ctx, db, []feeds.Feed{{Name: "big", URL: ts.URL}})
		if err == nil || !strings.Contains(err.Error(), `feed "big"`) || !strings.Contains(err.Error(), "larger than 100 bytes") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		nf := httptest.NewServer(http.NotFoundHandler())
		defer nf.Close()
		res, err := f.FetchAll(ctx, db, []feeds.Feed{{Name: "gone", URL: nf.URL}, blog})
		if err == nil || !strings.Contains(err.Error(), `feed "gone"`) || !strings.Contains(err.Error(), "404") || len(res.Feeds) != 2 || res.Feeds[1].Err != nil {
			t.Errorf("res %+v err %v", res, err)
		}
	})
	t.Run("ErrTimeout", func(t *testing.T) {
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}))
		defer slow.Close()
		quick := &feeds.Fetcher{Timeout: 50 * time.Millisecond}
		_, err := quick.FetchAll(ctx, db, []feeds.Feed{{Name: "slow", URL: slow.URL}})
		if err == nil || !strings.Contains(err.Error(), `feed "slow"`) {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("ChangedFeedIsReadAgain", func(t *testing.T) {
		srv.mu.Lock()
		srv.body = strings.Replace(feedXML, "Hi.", "Hi, edited.", 1)
		srv.mu.Unlock()
		res, err := f.FetchAll(ctx, db, []feeds.Feed{blog})
		if err != nil || res.Feeds[0].Updated != 1 {
			t.Fatalf("%+v %v", res, err)
		}
	})
}

func TestForList(t *testing.T) {
	fs := []feeds.Feed{{Name: "a"}, {Name: "b", List: "members"}, {Name: "c", List: "other"}}
	got := feeds.ForList(fs, "members")
	if len(got) != 2 || got[0].Name != "a" || got[1].Name != "b" {
		t.Errorf("%+v", got)
	}
}
