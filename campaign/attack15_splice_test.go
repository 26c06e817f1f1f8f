package campaign

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/example/newsletter"
	"github.com/example/newsletter/mailer"
	"github.com/example/newsletter/subscribers"
	"github.com/example/newsletter/templates"
)

type hostile struct {
	name   string
	arts   []*newsletter.Article
	reader *newsletter.Recipient
}

func hostileCases(clock func() time.Time) []hostile {
	mk := func(i int, title, summary, url string) *newsletter.Article {
		a := &newsletter.Article{Slug: fmt.Sprint("h", i), Title: title, Date: clock().AddDate(0, 0, -i), Categories: []string{"Parks"}, URL: url, Summary: summary}
		a.ComputeHash()
		return a
	}
	longURL := "https://millbrook.example/" + strings.Repeat("très-long-é-", 40) + "?q=" + strings.Repeat("=%20", 30)
	sums := []string{
		"ends without newline",
		"From the council: a line\nFrom here\n.leading dot\n..two dots\n.\nend",
		"trailing spaces   \nand tabs\t\t\nand CR\r\nlone\rcr",
		"emoji 😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀 and RTL שלום עולם مرحبا بالعالم \u202e reversed \u202c",
		strings.Repeat("é", 200),
		strings.Repeat("=", 200),
		strings.Repeat("x", 75) + "=" + strings.Repeat("y", 74) + "é" + strings.Repeat("z", 73) + "😀",
		"\n\n\n   \n\t\n",
		"",
		"=?utf-8?q?Hacked?= encoded-word lookalike",
		longURL,
		"line\u2028sep\u2029para\u0085nel\u00a0nbsp\u3000ideo",
		strings.Repeat(" ", 100) + "x" + strings.Repeat(" ", 100),
	}
	var cs []hostile
	readers := []*newsletter.Recipient{
		{DeliveryID: 1, SubscriberID: 11, Email: "ana@example.org", Name: "Ana \"The Q\" Silva 😀"},
		{DeliveryID: 2, SubscriberID: 12, Email: "bo@example.org", Name: "=?utf-8?q?Admin?= <admin@evil.example>"},
		{DeliveryID: 3, SubscriberID: 13, Email: "c@example.org", Name: "\ufffenewsletter-content\ufffe"},
		{DeliveryID: 4, SubscriberID: 14, Email: "d@example.org", Name: "\n\r\t   "},
		{DeliveryID: 5, SubscriberID: 15, Email: "e@example.org", Name: "שלום \u202e evil"},
		{DeliveryID: 6, SubscriberID: 16, Email: "f@example.org", Name: strings.Repeat("Ω", 300)},
		{DeliveryID: 7, SubscriberID: 17, Email: "g@example.org", Name: "{{.Site.Name}} %s %v"},
	}
	titles := []string{"Plain title", "=?utf-8?b?SGFja2Vk?=", strings.Repeat("X", 1200), strings.Repeat("é", 600), "😀 " + strings.Repeat("word ", 250), "From the top", ".dot title", ""}
	for ti, title := range titles {
		var arts []*newsletter.Article
		for si, s := range sums {
			u := ""
			if si%2 == 0 {
				u = "https://millbrook.example/p" + fmt.Sprint(si)
			}
			if si == 10 {
				u = longURL
			}
			arts = append(arts, mk(ti*100+si, fmt.Sprint(title, " ", si), s, u))
		}
		for _, r := range readers {
			cs = append(cs, hostile{name: fmt.Sprintf("title%d/%s", ti, r.Email), arts: arts, reader: r})
		}
		// a digest of one article each
		for si := range sums {
			cs = append(cs, hostile{name: fmt.Sprintf("title%d/one%d", ti, si), arts: arts[si : si+1], reader: readers[si%len(readers)]})
		}
	}
	return cs
}

func checkMessage(t *testing.T, name string, raw []byte, wantSubject, wantText, wantHTML string, pub string) {
	t.Helper()
	for i, l := range bytes.Split(raw, []byte("\r\n")) {
		if len(l) > 998 {
			t.Errorf("%s: line %d is %d bytes (>998): %.80q", name, i, len(l), l)
		}
		if bytes.IndexByte(l, '\n') >= 0 || bytes.IndexByte(l, '\r') >= 0 {
			t.Errorf("%s: bare CR/LF in line %d: %.80q", name, i, l)
		}
	}
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Errorf("%s: net/mail: %v", name, err)
		return
	}
	dec := new(mime.WordDecoder)
	subj, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Errorf("%s: subject: %v", name, err)
	}
	if subj != wantSubject {
		t.Errorf("%s: subject decodes to %.120q, want %.120q", name, subj, wantSubject)
	}
	if _, err := mail.ParseAddress(m.Header.Get("To")); err != nil {
		t.Errorf("%s: To %q: %v", name, m.Header.Get("To"), err)
	}
	_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		t.Errorf("%s: content-type: %v", name, err)
		return
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	wants := []string{wantText, wantHTML}
	for i := 0; ; i++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			if i != 2 {
				t.Errorf("%s: %d parts", name, i)
			}
			break
		}
		if err != nil {
			t.Errorf("%s: multipart: %v", name, err)
			return
		}
		enc, _ := io.ReadAll(p)
		for j, l := range bytes.Split(enc, []byte("\r\n")) {
			if len(l) > 76 {
				t.Errorf("%s part %d: QP line %d is %d long", name, i, j, len(l))
			}
			if len(l) > 0 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t') {
				t.Errorf("%s part %d: QP line %d ends in white space", name, i, j)
			}
		}
		got, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(enc)))
		if err != nil {
			t.Errorf("%s part %d: QP: %v", name, i, err)
			continue
		}
		w := strings.ReplaceAll(strings.ReplaceAll(wants[i], "\r\n", "\n"), "\r", "\n")
		g := strings.ReplaceAll(string(got), "\r\n", "\n")
		if i < 2 && g != w && g != strings.TrimSuffix(w, "\n") {
			t.Errorf("%s part %d: decoded body differs from the render", name, i)
		}
	}
	if pub != "" {
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{LookupTXT: func(string) ([]string, error) { return []string{pub}, nil }})
		if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
			var e error
			if len(verifs) > 0 {
				e = verifs[0].Err
			}
			t.Errorf("%s: DKIM: %v %v", name, err, e)
		}
	}
}

func TestAttack15_HostileSplice(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	clock := func() time.Time { return now }
	r, err := templates.New(templates.Site{Name: "Millbrook Trust", URL: "https://millbrook.example", Address: "1 Chapel Square"})
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
	b, err := mailer.NewBuilder("Millbrook Trust <news@millbrook.example>", "Millbrook Trust", mailer.WithClock(clock), mailer.WithDKIMKey("millbrook.example", "news", pemKey))
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(strings.Repeat("ab", 32))
	plain, _ := mailer.NewBuilder("Millbrook Trust <news@millbrook.example>", "Millbrook Trust", mailer.WithClock(clock))
	s0 := &Service{Renderer: r, Builder: plain, Signer: signer, Options: Options{PublicURL: "https://news.millbrook.example", UnsubscribeMailto: "leave@millbrook.example"}}
	s := &Service{Renderer: r, Builder: b, Signer: signer, Options: Options{PublicURL: "https://news.millbrook.example", UnsubscribeMailto: "leave@millbrook.example"}}
	dump := os.Getenv("ATTACK15_DUMP")
	n := 0
	for _, c := range hostileCases(clock) {
		for _, kind := range []string{newsletter.KindDigest, newsletter.KindArticle} {
			as := c.arts
			if kind == newsletter.KindArticle {
				as = as[:1]
			}
			spec := messageSpec{kind: kind, list: "newsletter", campaign: "1", articles: as, issue: 7}
			got, err := s.compose(spec, c.reader)
			if err != nil {
				t.Errorf("%s %s: %v", c.name, kind, err)
				continue
			}
			g, err := got.Bytes()
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			p0, err := s0.compose(spec, c.reader)
			if err != nil {
				t.Fatal(err)
			}
			pg, _ := p0.Bytes()
			want := s0.composeWhole(t, spec, c.reader, p0.MessageID)
			if boundaryRE.ReplaceAllString(string(pg), "B") != boundaryRE.ReplaceAllString(string(want), "B") {
				t.Errorf("%s %s: the spliced message differs from the whole", c.name, kind)
			}
			if false && boundaryRE.ReplaceAllString(string(g), "B") != boundaryRE.ReplaceAllString(string(want), "B") {
				t.Errorf("%s %s: the spliced message differs from the whole", c.name, kind)
			}
			content, _ := s.Renderer.Content(kind, s.withPages(newsletter.MatchArticles(as, c.reader.Categories)))
			whole, _ := s.Renderer.Render(content, templates.Reader{Name: c.reader.Name, Email: c.reader.Email}, s.links(c.reader.SubscriberID, "newsletter", 7))
			checkMessage(t, c.name+" "+kind, g, whole.Subject, whole.Text, whole.HTML, pub)
			if dump != "" {
				os.WriteFile(filepath.Join(dump, fmt.Sprintf("m%03d.eml", n)), g, 0o644)
				n++
			}
		}
	}
	if dump != "" {
		os.WriteFile(filepath.Join(dump, "pub.txt"), []byte(pub), 0o644)
	}
}
