package web_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/web"
)

// outbox records the confirmation mails the handler asks for.
type outbox struct {
	mu    sync.Mutex
	links map[string][]string
	fail  bool
}

func (o *outbox) send(ctx context.Context, s *newsletter.Subscriber, link string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("server down")
	}
	o.links[s.Email] = append(o.links[s.Email], link)
	return nil
}

func signupFixture(t *testing.T) (*fixture, *outbox) {
	t.Helper()
	f := newFixture(t)
	box := &outbox{links: map[string][]string{}}
	f.srv.Close()
	h := &finished{h: web.New(f.db, f.signer, web.Site{Name: "Millbrook Trust", PublicURL: "https://news.example.org"}, nil,
		web.WithSignup("newsletter", box.send))}
	f.srv = httptest.NewServer(h)
	f.wait = h.wait
	t.Cleanup(f.srv.Close)
	return f, box
}

// finished lets a test wait for the handlers it started: the form mails
// after its answer.
type finished struct {
	h  http.Handler
	wg sync.WaitGroup
}

func (f *finished) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.wg.Add(1)
	defer f.wg.Done()
	f.h.ServeHTTP(w, r)
}

// wait waits for the handlers started and the mails they handed on.
func (f *finished) wait() {
	f.wg.Wait()
	if d, ok := f.h.(interface{ Drain() }); ok {
		d.Drain()
	}
}

// subscribe posts the form and waits for the mail it sends, if any.
func subscribe(t *testing.T, f *fixture, form url.Values) (int, string) {
	t.Helper()
	resp, err := noRedirect.PostForm(f.srv.URL+"/subscribe", form)
	if err != nil {
		t.Fatal(err)
	}
	b := body(t, resp)
	f.wait()
	return resp.StatusCode, b
}

// local turns a mailed link into one on the test server.
func local(f *fixture, link string) string {
	return f.srv.URL + strings.TrimPrefix(link, "https://news.example.org")
}

func TestSignup_DoubleOptIn(t *testing.T) {
	f, box := signupFixture(t)
	resp, _ := http.Get(f.srv.URL + "/subscribe")
	if b := body(t, resp); !strings.Contains(b, `name="email"`) || !strings.Contains(b, `value="Parks"`) {
		t.Fatalf("form:\n%s", b)
	}
	code, b := subscribe(t, f, url.Values{"email": {" New.Reader@Example.org "}, "name": {"New\r\nReader"}, "category": {"Parks"}})
	if code != 200 || !strings.Contains(b, "new.reader@example.org") || !strings.Contains(b, "Open the link") {
		t.Fatalf("%d\n%s", code, b)
	}
	if s := f.status(t, "new.reader@example.org"); s != "unconfirmed" {
		t.Fatalf("status = %s", s)
	}
	links := box.links["new.reader@example.org"]
	if len(links) != 1 || !strings.HasPrefix(links[0], "https://news.example.org/confirm/") {
		t.Fatalf("mails = %v", links)
	}
	// Asking again at once sends nothing more, and says the same.
	code, b2 := subscribe(t, f, url.Values{"email": {"new.reader@example.org"}})
	if code != 200 || b2 != b || len(box.links["new.reader@example.org"]) != 1 {
		t.Fatalf("second request: %d, %d mails", code, len(box.links["new.reader@example.org"]))
	}
	// The GET page asks; only the POST confirms.
	resp, _ = http.Get(local(f, links[0]))
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "<form") || f.status(t, "new.reader@example.org") != "unconfirmed" {
		t.Fatalf("GET confirm: %d %s\n%s", resp.StatusCode, f.status(t, "new.reader@example.org"), b)
	}
	resp, _ = noRedirect.PostForm(local(f, links[0]), url.Values{})
	if b := body(t, resp); resp.StatusCode != 200 || !strings.Contains(b, "is subscribed") {
		t.Fatalf("POST confirm: %d\n%s", resp.StatusCode, b)
	}
	s, _ := f.db.SubscriberByEmail(context.Background(), "new.reader@example.org")
	if s.Status != "active" || s.Name != "New Reader" || strings.Join(s.Categories, ",") != "Parks" || strings.Join(s.Lists, ",") != "newsletter" {
		t.Fatalf("subscriber = %+v", s)
	}
	// An active reader asking again gets the same page and no mail.
	code, _ = subscribe(t, f, url.Values{"email": {"ana@example.org"}})
	if code != 200 || len(box.links["ana@example.org"]) != 0 {
		t.Fatalf("active reader: %d, mails %v", code, box.links["ana@example.org"])
	}
}

func TestSignup_ReturningReader(t *testing.T) {
	f, box := signupFixture(t)
	ctx := context.Background()
	f.db.SetSubscriberStatus(ctx, "ana@example.org", "unsubscribed")
	subscribe(t, f, url.Values{"email": {"ana@example.org"}})
	if f.status(t, "ana@example.org") != "unsubscribed" {
		t.Fatal("the form alone changed an unsubscribed status")
	}
	links := box.links["ana@example.org"]
	if len(links) != 1 {
		t.Fatalf("mails = %v", links)
	}
	noRedirect.PostForm(local(f, links[0]), url.Values{})
	if s := f.status(t, "ana@example.org"); s != "active" {
		t.Fatalf("after confirming: %s", s)
	}
}

func TestSignup_Errors(t *testing.T) {
	f, box := signupFixture(t)
	t.Run("ErrBadAddress", func(t *testing.T) {
		code, b := subscribe(t, f, url.Values{"email": {"Ana <ana@example.org>"}})
		if code != 400 || !strings.Contains(b, "Please check the address") {
			t.Fatalf("%d\n%s", code, b)
		}
	})
	t.Run("ErrUnknownCategory", func(t *testing.T) {
		code, _ := subscribe(t, f, url.Values{"email": {"x@example.org"}, "category": {"Astrology"}})
		if code != 400 {
			t.Fatalf("%d", code)
		}
		if _, err := f.db.SubscriberByEmail(context.Background(), "x@example.org"); err == nil {
			t.Fatal("a failed sign-up stored the address")
		}
	})
	t.Run("MailFails", func(t *testing.T) {
		// The answer comes before the mail, so it cannot tell; the
		// failure starts no cooldown.
		box.fail = true
		code, b := subscribe(t, f, url.Values{"email": {"y@example.org"}})
		box.fail = false
		if code != 200 || !strings.Contains(b, "Open the link") {
			t.Fatalf("%d\n%s", code, b)
		}
		subscribe(t, f, url.Values{"email": {"y@example.org"}})
		if n := len(box.links["y@example.org"]); n != 1 {
			t.Fatalf("after the failure: %d mails, want 1", n)
		}
	})
	t.Run("ErrExpired", func(t *testing.T) {
		subscribe(t, f, url.Values{"email": {"late@example.org"}})
		link := box.links["late@example.org"][0]
		f.db.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
		defer func() { f.db.Now = time.Now }()
		resp, _ := noRedirect.PostForm(local(f, link), url.Values{})
		if b := body(t, resp); resp.StatusCode != 410 || !strings.Contains(b, "expired") {
			t.Fatalf("%d\n%s", resp.StatusCode, b)
		}
		if f.status(t, "late@example.org") != "unconfirmed" {
			t.Fatal("an expired link confirmed")
		}
	})
	t.Run("ErrUnsubscribeTokenDoesNotConfirm", func(t *testing.T) {
		link := strings.Replace(f.link("unsubscribe", f.ana), "/unsubscribe/", "/confirm/", 1)
		resp, _ := noRedirect.PostForm(link, url.Values{})
		if resp.StatusCode != 400 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
	t.Run("SignupOff", func(t *testing.T) {
		off := httptest.NewServer(web.New(f.db, f.signer, web.Site{Name: "x"}, nil))
		defer off.Close()
		resp, _ := http.Get(off.URL + "/subscribe")
		if resp.StatusCode != 404 {
			t.Fatalf("%d", resp.StatusCode)
		}
	})
}
