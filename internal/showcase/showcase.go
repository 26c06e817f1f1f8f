// Package showcase builds everything a reader sees — the digest, an
// article mail, the confirmation mail, the subscriber pages and the web
// archive — from the example articles, on a loopback server, so that tests
// can measure it in a browser and scripts/screenshots can photograph it.
//
// One example article carries a 1600 × 900 lead image and another one in
// its body, served by the same server, to show that wide images fit.
package showcase

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/articles"
	"github.com/example/newsletter/campaign"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/sqlite"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
	"github.com/example/newsletter/web"
)

// Page is one thing to look at: a URL on the showcase server and, for a
// page reached through a form, the script that submits it and the
// condition that says the next page is there.
type Page struct {
	Name  string // file-name friendly: "mail-digest", "page-unsubscribed"
	URL   string
	Mail  bool   // a message (h1 and h2 expected) rather than a page
	Do    string // JavaScript run after loading, or ""
	Until string // JavaScript condition to wait for after Do
}

// Showcase is a running set of pages.
type Showcase struct {
	Dir    string // the database, the outbox and the mail documents
	Outbox string // the .eml files: digest in 2/, the article in 3/, confirm/
	Pages  []Page
	srv    *httptest.Server
	db     *sqlite.DB
}

// Close stops the server and closes the database.
func (s *Showcase) Close() {
	s.srv.Close()
	s.db.Close()
}

// Message returns the path of the .eml file of campaign ("2" the digest,
// "3" the article, "confirm") to email.
func (s *Showcase) Message(campaign, email string) (string, error) {
	files, _ := filepath.Glob(filepath.Join(s.Outbox, campaign, "*"+email+"*.eml"))
	if len(files) != 1 {
		return "", fmt.Errorf("showcase: %d messages of %s to %s", len(files), campaign, email)
	}
	return files[0], nil
}

// Site is the showcase's sender.
var Site = templates.Site{Name: "Millbrook Community Trust", URL: "https://example.org", Address: "1 Chapel Square, Millbrook MB1 2CD"}

// The readers: Ana takes two categories, Carol (written "Smith, Carol")
// takes everything.
const (
	Ana   = "ana.silva@example.org"
	Carol = "carol.smith@example.org"
)

// WideImage is the path of the 1600 × 900 image on the server.
const WideImage = "/img/wide.png"

// New builds the showcase in dir from the example articles in examples
// (the examples/articles directory) and starts its server.
func New(ctx context.Context, dir, examples string) (*Showcase, error) {
	sc := &Showcase{Dir: dir, Outbox: filepath.Join(dir, "outbox")}
	mux := http.NewServeMux()
	sc.srv = httptest.NewServer(mux)
	base := sc.srv.URL
	ok := false
	defer func() {
		if !ok {
			sc.srv.Close()
		}
	}()

	db, err := sqlite.Open(ctx, filepath.Join(dir, "newsletter.db"))
	if err != nil {
		return nil, err
	}
	sc.db = db
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	if err := seed(ctx, db, examples, base); err != nil {
		return nil, err
	}
	r, err := templates.New(Site)
	if err != nil {
		return nil, err
	}
	b, err := mailer.NewBuilder("Millbrook Community Trust <news@example.org>", Site.Name)
	if err != nil {
		return nil, err
	}
	signer, err := subscribers.NewSigner(strings.Repeat("5c", 32))
	if err != nil {
		return nil, err
	}
	svc := &campaign.Service{DB: db, Renderer: r, Builder: b, Signer: signer, Transport: &mailer.FileTransport{Dir: sc.Outbox},
		Options: campaign.Options{PublicURL: base, Concurrency: 1}}
	confirmPath, err := sendIssues(ctx, svc, base)
	if err != nil {
		return nil, err
	}

	if err := sc.serveMails(mux); err != nil {
		return nil, err
	}
	sendConfirm := func(ctx context.Context, s *newsletter.Subscriber, url string) error { return nil }
	mux.Handle("/", web.New(db, signer, web.Site{Name: Site.Name, URL: Site.URL, PublicURL: base}, nil,
		web.WithSignup(newsletter.DefaultList, sendConfirm), web.WithArchive(svc)))

	sc.Pages = pages(ctx, db, signer, base, confirmPath)
	ok = true
	return sc, nil
}

// seed stores the example articles and three readers.
func seed(ctx context.Context, db *sqlite.DB, examples, base string) error {
	arts, err := exampleArticles(examples, base)
	if err != nil {
		return err
	}
	if _, err := db.UpsertArticles(ctx, arts); err != nil {
		return err
	}
	readers := []*newsletter.SubscriberInput{
		{Email: Ana, Name: "Ana Silva", HasName: true, Categories: []string{"Parks", "Events"}, HasCategories: true},
		{Email: Carol, Name: "Smith, Carol", HasName: true, HasCategories: true},
		{Email: "ben.okafor@example.org", Name: "Ben Okafor", HasName: true, Categories: []string{"Transport"}, HasCategories: true},
	}
	rows := func(yield func(*newsletter.SubscriberInput, error) bool) {
		for _, r := range readers {
			if !yield(r, nil) {
				return
			}
		}
	}
	if _, err := db.ImportSubscribers(ctx, iter.Seq2[*newsletter.SubscriberInput, error](rows), newsletter.ImportOptions{Strict: true}); err != nil {
		return err
	}

	return nil
}

// sendIssues sends an article, a digest and another article into the
// outbox, and a confirmation mail to a sign-up; it returns the path of
// that confirmation link.
func sendIssues(ctx context.Context, svc *campaign.Service, base string) (string, error) {
	// Issue 1 is an older article, so that the archive lists two issues.
	if _, err := svc.Article(ctx, campaign.ArticleRequest{List: newsletter.DefaultList, Slug: "longer-library-hours-on-thursdays"}); err != nil {
		return "", fmt.Errorf("showcase: the article campaign: %w", err)
	}
	if _, err := svc.Digest(ctx, campaign.DigestRequest{List: newsletter.DefaultList, Since: time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		return "", fmt.Errorf("showcase: the digest: %w", err)
	}
	if _, err := svc.Article(ctx, campaign.ArticleRequest{List: newsletter.DefaultList, Slug: "plant-a-tree-with-us-on-saturday", Again: true}); err != nil {
		return "", fmt.Errorf("showcase: the article campaign: %w", err)
	}
	// A sign-up waiting for its confirmation, and its mail.
	pending, _, err := svc.DB.RequestSubscription(ctx, &newsletter.SubscriberInput{Email: "new.reader@example.org", Name: "Dana Reyes", HasName: true, HasCategories: true}, newsletter.DefaultList, 0)
	if err != nil {
		return "", err
	}
	confirmPath := "/confirm/" + svc.Signer.Sign(subscribers.Token{Purpose: subscribers.PurposeConfirm, Subscriber: pending.ID, List: newsletter.DefaultList})
	if err := svc.SendConfirmation(ctx, pending, base+confirmPath); err != nil {
		return "", err
	}

	return confirmPath, nil
}

// serveMails serves the HTML part of each mail under /mail/NAME, and the
// wide image under WideImage.
func (sc *Showcase) serveMails(mux *http.ServeMux) error {
	// The mails as documents.
	mails := map[string]string{}
	for name, m := range map[string][2]string{"digest": {"2", Ana}, "digest-all": {"2", Carol}, "article": {"3", Ana}, "confirm": {"confirm", "new.reader@example.org"}} {
		path, err := sc.Message(m[0], m[1])
		if err != nil {
			return err
		}
		html, err := htmlPart(path)
		if err != nil {
			return err
		}
		mails[name] = html
	}
	mux.HandleFunc("GET /mail/{name}", func(w http.ResponseWriter, r *http.Request) {
		html, ok := mails[strings.TrimSuffix(r.PathValue("name"), ".html")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, html)
	})
	mux.HandleFunc("GET "+WideImage, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Write(widePNG())
	})
	return nil
}

// pages lists what the showcase photographs.
func pages(ctx context.Context, db *sqlite.DB, signer *subscribers.Signer, base, confirmPath string) []Page {
	tok := func(purpose, email string) string {
		s, err := db.SubscriberByEmail(ctx, email)
		if err != nil {
			panic(err)
		}
		return signer.Sign(subscribers.Token{Purpose: purpose, Subscriber: s.ID, List: newsletter.DefaultList})
	}
	submit := `document.querySelector('main form').submit()`
	return []Page{
		{Name: "mail-digest", URL: base + "/mail/digest", Mail: true},
		{Name: "mail-digest-all", URL: base + "/mail/digest-all", Mail: true},
		{Name: "mail-article", URL: base + "/mail/article", Mail: true},
		{Name: "mail-confirm", URL: base + "/mail/confirm", Mail: true},
		{Name: "page-archive", URL: base + "/archive"},
		{Name: "page-issue", URL: base + "/archive/2", Mail: true},
		{Name: "page-article", URL: base + "/articles/book-swap-at-the-library"},
		{Name: "page-subscribe", URL: base + "/subscribe"},
		{Name: "page-check-mail", URL: base + "/subscribe",
			Do:    `document.querySelector('input[name=email]').value = 'someone@example.org'; ` + submit,
			Until: `document.title.startsWith('Check your mail')`},
		{Name: "page-confirm", URL: base + confirmPath},
		{Name: "page-preferences", URL: base + "/preferences/" + tok(subscribers.PurposePreferences, Ana)},
		{Name: "page-preferences-saved", URL: base + "/preferences/" + tok(subscribers.PurposePreferences, Ana),
			Do: submit, Until: `!!document.querySelector('.saved')`},
		{Name: "page-unsubscribe", URL: base + "/unsubscribe/" + tok(subscribers.PurposeUnsubscribe, Ana)},
		{Name: "page-unsubscribed", URL: base + "/unsubscribe/" + tok(subscribers.PurposeUnsubscribe, "ben.okafor@example.org"),
			// A form of its own: after the first time, the page has none.
			Do:    `const f = document.createElement('form'); f.method = 'post'; document.body.append(f); f.submit()`,
			Until: `document.title.startsWith('You are unsubscribed')`},
		{Name: "page-error", URL: base + "/unsubscribe/not-a-token"},
	}
}

// exampleArticles reads the example articles, gives one a lead image and
// another a wide image in its body, and takes the URL from one so that the
// archive shows its full text.
func exampleArticles(dir, base string) ([]*newsletter.Article, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("showcase: no example articles in %s (%v)", dir, err)
	}
	var out []*newsletter.Article
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		a, err := articles.Parse(f, src, Site.URL)
		if err != nil {
			return nil, err
		}
		switch a.Slug {
		case "plant-a-tree-with-us-on-saturday":
			a.Image, a.ImageAlt = base+WideImage, "Volunteers planting saplings by the railway path"
			a.Body += "\n\n![The railway path in autumn](" + base + WideImage + ")\n"
		case "book-swap-at-the-library":
			a.URL = ""
		}
		a.ComputeHash()
		out = append(out, a)
	}
	return out, nil
}

// widePNG is a 1600 × 900 image in two calm colours.
func widePNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 1600, 900))
	for y := 0; y < 900; y++ {
		for x := 0; x < 1600; x++ {
			c := color.RGBA{0x6b, 0x8f, 0x71, 0xff}
			if y < 500-x/8 {
				c = color.RGBA{0xb7, 0xd3, 0xe9, 0xff}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// htmlPart returns the decoded text/html part of a message file.
func htmlPart(path string) (string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		return "", err
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return "", fmt.Errorf("%s: no HTML part: %w", path, err)
		}
		if !strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			continue
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(r)
		return string(b), err
	}
}
