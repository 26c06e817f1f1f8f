package main

import (
	"context"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/example/newsletter/internal/showcase"
	"github.com/example/newsletter/internal/testtool"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/web"
)

// browser starts headless Chromium for a test.
func browser(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := showcase.Browser(context.Background(), testtool.Need(t, "chromium"), t.TempDir())
	t.Cleanup(cancel)
	ctx, cancel2 := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel2)
	return ctx
}

// TestBrowser_DigestLayout renders the examples' digest in Chromium: 600 px
// wide on a desktop, the width of the screen on a phone, the preheader
// hidden.
func TestBrowser_DigestLayout(t *testing.T) {
	ctx := browser(t)
	c := newCLI(t)
	c.loadExamples()
	out := filepath.Join(c.dir, "preview")
	c.ok("preview", "--to", "ana.silva@example.org", "--since", "2026-11-01", "--out", out)
	url := "file://" + filepath.Join(out, "ana.silva@example.org.html")
	for _, tc := range []struct {
		screen, want int64
	}{{1024, 600}, {375, 375}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(tc.screen, 900), chromedp.Navigate(url)); err != nil {
			t.Fatal(err)
		}
		width, err1 := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('table.container').getBoundingClientRect().width`))
		preheader, err2 := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector('.preheader').getBoundingClientRect().height`))
		scroll, err3 := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
		if err := errors.Join(err1, err2, err3); err != nil {
			t.Fatal(err)
		}
		if int64(width) != tc.want {
			t.Errorf("screen %d px: the message is %.0f px wide, want %d", tc.screen, width, tc.want)
		}
		if preheader != 0 {
			t.Errorf("screen %d px: the preheader is visible (%.0f px high)", tc.screen, preheader)
		}
		if scroll > tc.screen {
			t.Errorf("screen %d px: the page scrolls sideways (%d px)", tc.screen, scroll)
		}
	}
}

// TestBrowser_UnsubscribePage opens the unsubscribe link of a real message
// in Chromium and presses the button.
func TestBrowser_UnsubscribePage(t *testing.T) {
	ctx := browser(t)
	c := newCLI(t)
	c.loadExamples()
	db, err := sqlite.Open(context.Background(), filepath.Join(c.dir, "newsletter.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	secret, _ := os.ReadFile(filepath.Join(c.dir, "newsletter.toml"))
	hexSecret := regexp.MustCompile(`(?m)^secret = "([0-9a-f]+)"`).FindSubmatch(secret)[1]
	signer, _ := subscribers.NewSigner(string(hexSecret))
	srv := httptest.NewServer(web.New(db, signer, web.Site{Name: "Example News"}, nil))
	defer srv.Close()
	s, _ := db.SubscriberByEmail(context.Background(), "emma.jones@example.org")
	link := srv.URL + "/unsubscribe/" + signer.Sign(subscribers.Token{Purpose: subscribers.PurposeUnsubscribe, Subscriber: s.ID, List: "newsletter"})

	if err := chromedp.Do(ctx, chromedp.Navigate(link)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("button")), chromedp.WaitVisible(chromedp.Search(`//p[contains(., "will get no more mail")]`))); err != nil {
		t.Fatal(err)
	}
	after, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(after, "will get no more mail") {
		t.Errorf("page after the click: %q", after)
	}
	if !strings.Contains(before, "Stop all mail from Example News to emma.jones@example.org?") {
		t.Errorf("page before: %q", before)
	}
	if s, _ := db.SubscriberByEmail(context.Background(), "emma.jones@example.org"); s.Status != "unsubscribed" {
		t.Errorf("status after the click: %s", s.Status)
	}
}
