package web_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/example/newsletter"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/web"
)

type fixture struct {
	db     *sqlite.DB
	signer *subscribers.Signer
	srv    *httptest.Server
	ana    *newsletter.Subscriber
	wait   func() // until the handlers started have finished
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "web.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for _, in := range []*newsletter.SubscriberInput{
			{Email: "ana@example.org", Categories: []string{"Parks"}, HasCategories: true},
			{Email: "ben@example.org", Status: "bounced"},
			{Email: "cat@example.org", Categories: []string{"Transport", "Events"}, HasCategories: true},
		} {
			if !yield(in, nil) {
				return
			}
		}
	}
	if _, err := db.ImportSubscribers(ctx, rows, newsletter.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner("00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff")
	srv := httptest.NewServer(web.New(db, signer, web.Site{Name: "Millbrook Trust"}, nil))
	t.Cleanup(srv.Close)
	ana, _ := db.SubscriberByEmail(ctx, "ana@example.org")
	return &fixture{db: db, signer: signer, srv: srv, ana: ana, wait: func() {}}
}

func (f *fixture) link(purpose string, s *newsletter.Subscriber) string {
	return f.srv.URL + "/" + purpose + "/" + f.signer.Sign(subscribers.Token{Purpose: purpose, Subscriber: s.ID, List: "newsletter"})
}

func (f *fixture) status(t *testing.T, email string) string {
	t.Helper()
	s, err := f.db.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return s.Status
}

// noRedirect fails the test if the server redirects: RFC 8058 asks for a
// direct answer.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestOneClick_FormURLEncoded(t *testing.T) {
	f := newFixture(t)
	resp, err := noRedirect.Post(f.link("unsubscribe", f.ana), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != 200 || b != "Unsubscribed.\n" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if s := f.status(t, "ana@example.org"); s != "unsubscribed" {
		t.Fatalf("status = %s", s)
	}
	// Again: still a success, still unsubscribed.
	resp, _ = noRedirect.Post(f.link("unsubscribe", f.ana), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if resp.StatusCode != 200 {
		t.Fatalf("second one-click: %d", resp.StatusCode)
	}
}

func TestOneClick_Multipart(t *testing.T) {
	f := newFixture(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	resp, err := noRedirect.Post(f.link("unsubscribe", f.ana), mw.FormDataContentType(), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if b := body(t, resp); resp.StatusCode != 200 || b != "Unsubscribed.\n" {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
	if s := f.status(t, "ana@example.org"); s != "unsubscribed" {
		t.Fatalf("status = %s", s)
	}
}

func TestUnsubscribePage(t *testing.T) {
	f := newFixture(t)
	resp, err := http.Get(f.link("unsubscribe", f.ana))
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(b, "ana@example.org") || !strings.Contains(b, `<form method="post">`) {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
	if s := f.status(t, "ana@example.org"); s != "active" {
		t.Fatalf("a GET unsubscribed: %s", s)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	// The page's button posts an empty form.
	resp, _ = noRedirect.PostForm(f.link("unsubscribe", f.ana), url.Values{})
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "will get no more mail") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
	if s := f.status(t, "ana@example.org"); s != "unsubscribed" {
		t.Fatalf("status = %s", s)
	}
}

func TestUnsubscribe_KeepsBounced(t *testing.T) {
	f := newFixture(t)
	ben, _ := f.db.SubscriberByEmail(context.Background(), "ben@example.org")
	resp, _ := noRedirect.Post(f.link("unsubscribe", ben), "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if resp.StatusCode != 200 || f.status(t, "ben@example.org") != "bounced" {
		t.Fatalf("%d %s", resp.StatusCode, f.status(t, "ben@example.org"))
	}
}

func TestBadLinks(t *testing.T) {
	f := newFixture(t)
	good := f.link("unsubscribe", f.ana)
	for name, link := range map[string]string{
		"ErrWrongPurpose": strings.Replace(f.link("preferences", f.ana), "/preferences/", "/unsubscribe/", 1),
		"ErrAltered":      good[:len(good)-2] + "xx",
		"ErrGarbage":      f.srv.URL + "/unsubscribe/nonsense",
	} {
		t.Run(name, func(t *testing.T) {
			resp, _ := noRedirect.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
			if b := body(t, resp); resp.StatusCode != 400 || !strings.Contains(b, "This link is not valid") {
				t.Fatalf("%d\n%s", resp.StatusCode, b)
			}
			if s := f.status(t, "ana@example.org"); s != "active" {
				t.Fatalf("a bad link unsubscribed: %s", s)
			}
		})
	}
	t.Run("RemovedSubscriber", func(t *testing.T) {
		f.db.RemoveSubscriber(context.Background(), "ana@example.org")
		resp, _ := http.Get(good)
		if resp.StatusCode != 404 {
			t.Fatalf("GET: %d", resp.StatusCode)
		}
		resp, _ = noRedirect.Post(good, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
		if resp.StatusCode != 404 {
			t.Fatalf("one-click for a removed subscriber: %d", resp.StatusCode)
		}
	})
}

func TestPreferences(t *testing.T) {
	f := newFixture(t)
	link := f.link("preferences", f.ana)
	resp, _ := http.Get(link)
	b := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(b, `value="Parks" checked`) || !strings.Contains(b, `value="Transport">`) || !strings.Contains(b, "/unsubscribe/") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
	resp, _ = noRedirect.PostForm(link, url.Values{"category": {"Transport", "events"}})
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "Saved.") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
	ana, _ := f.db.SubscriberByEmail(context.Background(), "ana@example.org")
	if strings.Join(ana.Categories, ",") != "Transport,Events" {
		t.Fatalf("categories = %q", ana.Categories)
	}
	resp, _ = noRedirect.PostForm(link, url.Values{"all": {"1"}, "category": {"Parks"}})
	body(t, resp)
	ana, _ = f.db.SubscriberByEmail(context.Background(), "ana@example.org")
	if len(ana.Categories) != 0 {
		t.Fatalf("everything: categories = %q", ana.Categories)
	}
	resp, _ = noRedirect.PostForm(link, url.Values{"category": {"Astrology"}})
	if b := body(t, resp); resp.StatusCode != 400 || !strings.Contains(b, "no category") {
		t.Fatalf("%d\n%s", resp.StatusCode, b)
	}
	// An unsubscribe token does not open the preferences.
	resp, _ = http.Get(strings.Replace(f.link("unsubscribe", f.ana), "/unsubscribe/", "/preferences/", 1))
	if resp.StatusCode != 400 {
		t.Fatalf("wrong purpose: %d", resp.StatusCode)
	}
}
