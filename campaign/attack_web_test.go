package campaign_test

import (
	"context"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/web"
)

// archiveServer sends one digest of "sent-one" and serves the archive.
func archiveServer(t *testing.T) (*campaign.Service, *httptest.Server) {
	t.Helper()
	ctx := context.Background()
	s := newService(t, &mailer.FileTransport{Dir: t.TempDir()})
	addReaders(t, s, reader{email: "all@example.org"})
	addArticle(t, s, "sent-one", "2026-11-25", "Parks")
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	srv := httptest.NewServer(web.New(s.DB, signer, web.Site{Name: "Millbrook Trust", PublicURL: s.PublicURL}, nil, web.WithArchive(s)))
	t.Cleanup(srv.Close)
	return s, srv
}

// An article that was never in any issue (a draft, or one written for next
// week) must not be readable on the public archive: the archive shows
// "issues that reached readers" and /articles/SLUG is where *mails* link.
func TestAttackWeb_UnsentArticleIsPublic(t *testing.T) {
	s, srv := archiveServer(t)
	// Written after the digest went out; never sent to anyone.
	a := addArticle(t, s, "embargoed-budget", "2026-12-20", "Parks")
	_ = a
	code, body, _ := get(t, srv.URL+"/articles/embargoed-budget")
	if code != http.StatusNotFound {
		t.Errorf("GET /articles/embargoed-budget (never sent, dated in the future): %d, want 404; the page shows %v",
			code, strings.Contains(body, "Body of embargoed-budget"))
	}
	// The one that was sent is still served.
	if code, _, _ := get(t, srv.URL+"/articles/sent-one"); code != 200 {
		t.Errorf("GET /articles/sent-one: %d", code)
	}
}

// Titles, category names and subjects are attacker-controlled when they come
// from a feed: they must be escaped on every archive page and in the feed.
func TestAttackWeb_ArchiveEscapes(t *testing.T) {
	ctx := context.Background()
	s := newService(t, &mailer.FileTransport{Dir: t.TempDir()})
	addReaders(t, s, reader{email: "all@example.org"})
	evil := `<script>alert(1)</script>"><img src=x onerror=alert(2)>]]>&amp;`
	for _, slug := range []string{"x1", "x2"} {
		a := addArticle(t, s, slug, "2026-11-25", `Parks<svg onload=alert(3)>`)
		a.Title = evil + slug
		a.Body = "Hello <script>alert(4)</script> <iframe src=//evil></iframe> [x](javascript:alert(5)) <meta http-equiv=refresh content=0;url=//evil> <base href=//evil/>"
		a.ComputeHash()
		if _, err := s.DB.UpsertArticles(ctx, []*newsletter.Article{a}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	srv := httptest.NewServer(web.New(s.DB, signer, web.Site{Name: "Millbrook <b>Trust</b>", PublicURL: s.PublicURL}, nil, web.WithArchive(s)))
	defer srv.Close()
	for _, p := range []string{"/", "/archive", "/archive/1", "/articles/x1", "/articles/x2"} {
		code, body, hdr := get(t, srv.URL+p)
		if code != 200 {
			t.Errorf("GET %s: %d", p, code)
			continue
		}
		for _, bad := range []string{"<script", "<img src=x", "<svg", "<iframe", "javascript:", "<meta http-equiv", "<base", "<b>Trust"} {
			if strings.Contains(strings.ToLower(body), strings.ToLower(bad)) {
				t.Errorf("GET %s: the page holds %q unescaped", p, bad)
			}
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	code, body, _ := get(t, srv.URL+"/feed.xml")
	if code != 200 {
		t.Fatalf("feed: %d", code)
	}
	var f struct {
		Title   string `xml:"title"`
		Entries []struct {
			Title   string `xml:"title"`
			Summary string `xml:"summary"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(body), &f); err != nil {
		t.Fatalf("the feed is not XML: %v\n%s", err, body)
	}
	if f.Title != "Millbrook <b>Trust</b>" || len(f.Entries) != 1 || !strings.HasPrefix(f.Entries[0].Title, evil) {
		t.Errorf("feed round trip: %q %+v", f.Title, f.Entries)
	}
}

// Path tricks and odd ids: no traversal, no 500, CSP on every answer, and no
// redirect off the site.
func TestAttackWeb_ArchivePaths(t *testing.T) {
	_, srv := archiveServer(t)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range []string{
		"/articles/..%2f..%2fetc%2fpasswd", "/articles/../../etc/passwd", "/articles/%2e%2e", "/articles/sent-one%00",
		"/archive/0", "/archive/-1", "/archive/99999999999999999999", "/archive/1e3", "/archive/%20", "/archive/abc",
		"//evil.example/", "/archive/..%2f..%2f", "///evil.example/%2e%2e", "/nope", "/feed.xml/", "/archive/",
	} {
		req, _ := http.NewRequest("GET", srv.URL+p, nil)
		resp, err := c.Do(req)
		if err != nil {
			t.Errorf("GET %s: %v", p, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if loc := resp.Header.Get("Location"); loc != "" && (strings.HasPrefix(loc, "//") || strings.Contains(loc, "evil.example/")) && !strings.HasPrefix(loc, "/") {
			t.Errorf("GET %s: redirect to %q", p, loc)
		}
		if loc := resp.Header.Get("Location"); strings.HasPrefix(loc, "//") {
			t.Errorf("GET %s: protocol-relative redirect %q", p, loc)
		}
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Errorf("GET %s (%d): no frame-ancestors", p, resp.StatusCode)
		}
		t.Logf("GET %s: %d %s", p, resp.StatusCode, resp.Header.Get("Location"))
	}
}

// Issues of every list are public: a campaign to a list other than the
// sign-up one (say, the board's) shows on the archive. Documented here; the
// README promises no private lists.
func TestAttackWeb_ArchiveShowsEveryList(t *testing.T) {
	ctx := context.Background()
	s := newService(t, &mailer.FileTransport{Dir: t.TempDir()})
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		yield(&newsletter.SubscriberInput{Email: "chair@example.org", Lists: []string{"board"}}, nil)
	}
	if _, err := s.DB.ImportSubscribers(ctx, rows, newsletter.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	addArticle(t, s, "board-minutes", "2026-11-25", "Parks")
	if _, err := s.Digest(ctx, campaign.DigestRequest{List: "board", Since: fixedNow.AddDate(0, 0, -7)}); err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	srv := httptest.NewServer(web.New(s.DB, signer, web.Site{Name: "Millbrook Trust"}, nil, web.WithArchive(s)))
	defer srv.Close()
	_, body, _ := get(t, srv.URL+"/archive")
	t.Logf("issue of list board on the public archive: %v", strings.Contains(body, "board-minutes"))
}
