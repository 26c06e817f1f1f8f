package campaign

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

var boundaryRE = regexp.MustCompile(`[0-9a-f]{60}`)

// The golden test of splicing: every reader's message, composed from
// blocks rendered and encoded once per campaign, is byte for byte the
// message rendered and encoded whole for that reader (only the multipart
// boundary, random in both, is set aside), over several sets of articles
// and readers with and without names and categories.
func TestCompose_SplicedIsTheWholeMessage(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 11, 30, 9, 5, 0, 0, time.UTC) }
	r, err := templates.New(templates.Site{Name: "Millbrook Trust", URL: "https://millbrook.example", Address: "1 Chapel Square"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := mailer.NewBuilder("Millbrook Trust <news@millbrook.example>", "Millbrook Trust", mailer.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{Renderer: r, Builder: b, Signer: signer, Options: Options{PublicURL: "https://news.millbrook.example", UnsubscribeMailto: "leave@millbrook.example"}}
	cats := []string{"Parks", "Transport", "Events"}
	var arts []*newsletter.Article
	for i := 0; i < 12; i++ {
		a := &newsletter.Article{Slug: fmt.Sprint("a", i), Title: fmt.Sprintf("Article %d: café — ünïcode and a long title that wraps in the text part", i),
			Date: clock().AddDate(0, 0, -i), Categories: []string{cats[i%3]}, URL: fmt.Sprint("https://millbrook.example/a", i),
			Summary: strings.Repeat("Something happened in the town this week = and here is a summary.  ", 1+i%4)}
		if i == 3 {
			a.URL = "" // linked to its archive page
		}
		a.ComputeHash()
		arts = append(arts, a)
	}
	readers := []*newsletter.Recipient{
		{DeliveryID: 1, SubscriberID: 11, Email: "ana@example.org", Name: "Ana Silva"},
		{DeliveryID: 2, SubscriberID: 12, Email: "bo@example.org", Categories: []string{"Parks"}},
		{DeliveryID: 3, SubscriberID: 13, Email: "zoe@example.org", Name: "Zoë \"Q\" <b>", Categories: []string{"Transport", "Events"}},
		{DeliveryID: 4, SubscriberID: 14, Email: "x@example.org", Name: strings.Repeat("Long Name ", 10), Categories: []string{"Events"}},
	}
	for _, kind := range []string{newsletter.KindDigest, newsletter.KindArticle} {
		as := arts
		if kind == newsletter.KindArticle {
			as = arts[:1]
		}
		spec := messageSpec{kind: kind, list: "newsletter", campaign: "1", articles: as, subjectPrefix: "", issue: 7}
		for _, rc := range readers {
			got, err := s.compose(spec, rc)
			if err != nil {
				if kind == newsletter.KindArticle {
					continue // not in this reader's categories
				}
				t.Fatal(err)
			}
			if kind == newsletter.KindDigest {
				c, _ := s.Renderer.Content(spec.kind, s.withPages(newsletter.MatchArticles(as, rc.Categories)))
				sp, err := s.Renderer.RenderSpliced(c, templates.Reader{Name: rc.Name, Email: rc.Email, Categories: rc.Categories}, s.links(rc.SubscriberID, spec.list, spec.issue))
				if err != nil || sp.HTML.Shared == nil || sp.Text.Shared == nil {
					t.Fatalf("%s: the digest was not spliced (%v)", rc.Email, err)
				}
			}
			want := s.composeWhole(t, spec, rc, got.MessageID)
			g, err := got.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if boundaryRE.ReplaceAllString(string(g), "B") != boundaryRE.ReplaceAllString(string(want), "B") {
				t.Fatalf("%s %s: the spliced message differs:\n%s\nwant\n%s", kind, rc.Email, g, want)
			}
		}
	}
}

// composeWhole is compose as it was before splicing: the reader's message
// rendered whole (Render) and built from the two whole parts.
func (s *Service) composeWhole(t *testing.T, spec messageSpec, r *newsletter.Recipient, messageID string) []byte {
	t.Helper()
	arts := newsletter.MatchArticles(spec.articles, r.Categories)
	content, err := s.Renderer.Content(spec.kind, s.withPages(arts))
	if err != nil {
		t.Fatal(err)
	}
	links := s.links(r.SubscriberID, spec.list, spec.issue)
	msg, err := s.Renderer.Render(content, templates.Reader{Name: r.Name, Email: r.Email, Categories: r.Categories}, links)
	if err != nil {
		t.Fatal(err)
	}
	built, err := s.Builder.Build(&mailer.Message{Campaign: spec.campaign, ToName: r.Name, ToEmail: r.Email, Subject: spec.subjectPrefix + msg.Subject,
		Text: msg.Text, HTML: msg.HTML, List: spec.list, UnsubscribeURL: links.Unsubscribe, UnsubscribeMailto: s.UnsubscribeMailto, MessageID: messageID})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := built.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
