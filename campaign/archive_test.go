package campaign_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/web"
)

// parts returns the text and HTML parts of a message file.
func parts(t *testing.T, path string) (text, html string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := mime.ParseMediaType(m.Header.Get("Content-Type"))
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		body, _ := io.ReadAll(r)
		body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			html = string(body)
		} else {
			text = string(body)
		}
	}
	return text, html
}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var tokenRe = regexp.MustCompile(`/(unsubscribe|preferences|confirm)/`)

// TestArchive sends a digest, follows a reader's "View in browser" link to
// the web archive and finds the issue there, with no reader's token on any
// archive page.
func TestArchive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newService(t, &mailer.FileTransport{Dir: dir})
	addReaders(t, s, reader{email: "parks@example.org", categories: []string{"Parks"}}, reader{email: "all@example.org"})
	addArticle(t, s, "old-news", "2026-10-01", "Parks")
	if _, err := s.Article(ctx, campaign.ArticleRequest{List: newsletter.DefaultList, Slug: "old-news"}); err != nil {
		t.Fatal(err)
	}
	addArticle(t, s, "tree", "2026-11-25", "Parks")
	bus := addArticle(t, s, "bus", "2026-11-26", "Transport")
	bus.URL = "https://millbrook.example/bus"
	bus.ComputeHash()
	if _, err := s.DB.UpsertArticles(ctx, []*newsletter.Article{bus}); err != nil {
		t.Fatal(err)
	}
	res, err := s.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: fixedNow.AddDate(0, 0, -7)})
	if err != nil {
		t.Fatal(err)
	}
	_ = res
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	srv := httptest.NewServer(web.New(s.DB, signer, web.Site{Name: "Millbrook Trust", PublicURL: s.PublicURL}, nil, web.WithArchive(s)))
	defer srv.Close()

	files, _ := filepath.Glob(filepath.Join(dir, "2", "*parks@example.org*.eml"))
	if len(files) != 1 {
		t.Fatalf("digest files of parks@: %v", files)
	}
	text, html := parts(t, files[0])
	m := regexp.MustCompile(`<a href="(https://news\.millbrook\.example/archive/(\d+))"[^>]*>View in browser</a>`).FindStringSubmatch(html)
	if m == nil {
		t.Fatalf("no View in browser link in the HTML:\n%s", html)
	}
	if !strings.Contains(text, "View in browser:\n"+m[1]) {
		t.Errorf("the text part lacks the link %s", m[1])
	}
	if m[2] != "2" {
		t.Errorf("the link names issue %s, want 2 (the digest)", m[2])
	}
	path := strings.TrimPrefix(m[1], s.PublicURL)

	t.Run("IssuePage", func(t *testing.T) {
		code, body, hdr := get(t, srv.URL+path)
		if code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		// Lead images and the logo are shown (https), scripts are not.
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src https:") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("issue page CSP %q: images blocked, or more than images allowed", csp)
		}
		// As a reader of every category sees it: both articles, even
		// though this reader takes only Parks.
		for _, want := range []string{"Title of tree", "Title of bus", "<h1", "<h2"} {
			if !strings.Contains(body, want) {
				t.Errorf("issue page lacks %q", want)
			}
		}
		for _, bad := range []string{"parks@example.org", "all@example.org", "View in browser", "Hello"} {
			if strings.Contains(body, bad) {
				t.Errorf("issue page has %q", bad)
			}
		}
	})
	t.Run("List", func(t *testing.T) {
		for _, p := range []string{"/", "/archive"} {
			code, body, _ := get(t, srv.URL+p)
			if code != 200 {
				t.Fatalf("GET %s: %d", p, code)
			}
			i, j := strings.Index(body, `href="/archive/2"`), strings.Index(body, `href="/archive/1"`)
			if i < 0 || j < 0 || i > j {
				t.Errorf("GET %s: issues 2 and 1 not listed newest first:\n%s", p, body)
			}
			if !strings.Contains(body, "26 November 2026") && !strings.Contains(body, "30 November 2026") {
				t.Errorf("GET %s: no date", p)
			}
		}
	})
	t.Run("Feed", func(t *testing.T) {
		code, body, hdr := get(t, srv.URL+"/feed.xml")
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/atom+xml") {
			t.Fatalf("feed: %d %s", code, hdr.Get("Content-Type"))
		}
		var f struct {
			Entries []struct {
				ID      string `xml:"id"`
				Updated string `xml:"updated"`
				Link    struct {
					Href string `xml:"href,attr"`
				} `xml:"link"`
			} `xml:"entry"`
		}
		if err := xml.Unmarshal([]byte(body), &f); err != nil {
			t.Fatal(err)
		}
		if len(f.Entries) != 2 || f.Entries[0].Link.Href != m[1] {
			t.Errorf("feed entries: %+v", f.Entries)
		}
		if _, err := time.Parse(time.RFC3339, f.Entries[0].Updated); err != nil {
			t.Error(err)
		}
	})
	t.Run("Articles", func(t *testing.T) {
		code, body, _ := get(t, srv.URL+"/articles/tree")
		if code != 200 || !strings.Contains(body, "Body of tree") || !strings.Contains(body, "<h1>Title of tree</h1>") {
			t.Errorf("article page: %d\n%s", code, body)
		}
		code, _, hdr := get(t, srv.URL+"/articles/bus")
		if code != http.StatusFound || hdr.Get("Location") != "https://millbrook.example/bus" {
			t.Errorf("article with a URL: %d %s", code, hdr.Get("Location"))
		}
		if code, _, _ := get(t, srv.URL+"/articles/nope"); code != 404 {
			t.Errorf("missing article: %d", code)
		}
		if code, _, _ := get(t, srv.URL+"/archive/99"); code != 404 {
			t.Errorf("missing issue: %d", code)
		}
	})
	t.Run("NoTokens", func(t *testing.T) {
		for _, p := range []string{"/", "/archive", "/archive/1", "/archive/2", "/articles/tree", "/feed.xml"} {
			_, body, _ := get(t, srv.URL+p)
			if tokenRe.MatchString(body) {
				t.Errorf("GET %s carries a token link:\n%s", p, body)
			}
		}
	})
	t.Run("Off", func(t *testing.T) {
		srv := httptest.NewServer(web.New(s.DB, signer, web.Site{Name: "Millbrook Trust"}, nil))
		defer srv.Close()
		if code, _, _ := get(t, srv.URL+"/archive"); code != 404 {
			t.Errorf("archive off: GET /archive %d", code)
		}
		s.NoArchive = true
		defer func() { s.NoArchive = false }()
		b, _, err := s.Preview(&campaign.Plan{Kind: newsletter.KindDigest, List: newsletter.DefaultList, Articles: []*newsletter.Article{bus}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(mustBytes(t, b), []byte("View in browser")) {
			t.Error("archive off: the preview has a View in browser link")
		}
	})
}

func mustBytes(t *testing.T, b *mailer.Built) []byte {
	t.Helper()
	raw, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestTestSendLinks: a --test-to mail to a subscriber carries their working
// links; to anyone else, none (never another reader's).
func TestTestSendLinks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := newService(t, &mailer.FileTransport{Dir: dir})
	addReaders(t, s, reader{email: "first@example.org"}, reader{email: "me@example.org", categories: []string{"Parks"}})
	addArticle(t, s, "tree", "2026-11-25", "Parks")
	p, err := s.DigestPlan(ctx, newsletter.DefaultList, fixedNow.AddDate(0, 0, -7), nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	me, _ := s.DB.SubscriberByEmail(ctx, "me@example.org")
	for _, tc := range []struct {
		to      string
		wantSub int64 // 0: no links
	}{{"me@example.org", me.ID}, {"stranger@example.org", 0}} {
		t.Run(tc.to, func(t *testing.T) {
			if err := s.TestSend(ctx, p, tc.to, false); err != nil {
				t.Fatal(err)
			}
			files, _ := filepath.Glob(filepath.Join(dir, "test", "*"+tc.to+"*.eml"))
			if len(files) != 1 {
				t.Fatalf("files: %v", files)
			}
			text, html := parts(t, files[0])
			toks := regexp.MustCompile(`/(?:unsubscribe|preferences)/([A-Za-z0-9_.-]+)`).FindAllStringSubmatch(text+html, -1)
			if tc.wantSub == 0 {
				if len(toks) > 0 {
					t.Errorf("a test mail to a stranger carries links: %v", toks)
				}
				return
			}
			if len(toks) == 0 {
				t.Fatal("no links in a test mail to a subscriber")
			}
			for _, tok := range toks {
				purpose := subscribers.PurposeUnsubscribe
				if strings.Contains(tok[0], "/preferences/") {
					purpose = subscribers.PurposePreferences
				}
				v, err := signer.Verify(purpose, tok[1])
				if err != nil || v.Subscriber != tc.wantSub {
					t.Errorf("%s: %+v %v, want subscriber %d", tok[0], v, err, tc.wantSub)
				}
			}
		})
	}
}
