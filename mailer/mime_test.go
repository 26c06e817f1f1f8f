package mailer

import (
	"bytes"
	"net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/example/newsletter"
)

// goMailBytes builds m as Build did with go-mail v0.8.1 before the
// message was written by writeMIME: the reference of the golden test.
func goMailBytes(t *testing.T, b *Builder, m *Message) []byte {
	t.Helper()
	msg := gomail.NewMsg(gomail.WithEncoding(gomail.EncodingQP), gomail.WithCharset(gomail.CharsetUTF8), gomail.WithNoDefaultUserAgent())
	if err := msg.FromFormat(b.from.Name, b.from.Address); err != nil {
		t.Fatal(err)
	}
	msg.ToMailAddress(&mail.Address{Name: newsletter.OneLine(m.ToName), Address: m.ToEmail})
	if b.replyTo != nil {
		msg.ReplyToMailAddress(b.replyTo)
	}
	msg.Subject(newsletter.OneLine(m.Subject))
	msg.SetDateWithValue(b.now())
	msg.SetMessageIDWithValue(strings.Trim(m.MessageID, "<>"))
	if m.List != "" {
		msg.SetGenHeader("List-Id", b.ListID(newsletter.OneLine(m.List)))
	}
	var unsub []string
	if m.UnsubscribeURL != "" {
		unsub = append(unsub, "<"+newsletter.OneLine(m.UnsubscribeURL)+">")
	}
	if m.UnsubscribeMailto != "" {
		unsub = append(unsub, "<mailto:"+newsletter.OneLine(strings.TrimPrefix(m.UnsubscribeMailto, "mailto:"))+"?subject=unsubscribe>")
	}
	if len(unsub) > 0 {
		msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribe, strings.Join(unsub, ",\r\n "))
		if m.UnsubscribeURL != "" {
			msg.SetGenHeaderPreformatted(gomail.HeaderListUnsubscribePost, "List-Unsubscribe=One-Click")
		}
	}
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var (
	boundaryRE = regexp.MustCompile(`[0-9a-f]{60}`)
	postRE     = regexp.MustCompile(`List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n`)
)

// normalise makes what go-mail left to chance comparable: the random
// boundary, and the order of List-Unsubscribe and List-Unsubscribe-Post
// (a map's order in go-mail).
func normalise(raw []byte) string {
	s := boundaryRE.ReplaceAllString(string(raw), "BOUNDARY")
	if n := len(postRE.FindAllString(s, -1)); n == 1 {
		s = postRE.ReplaceAllString(s, "")
		s = strings.Replace(s, "\r\nFrom: ", "\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nFrom: ", 1)
	}
	return s
}

// The message written by writeMIME is byte for byte the one go-mail
// wrote, for names, subjects and bodies that exercise the encoders and the
// folding.
func TestWriteMIME_GoldenAgainstGoMail(t *testing.T) {
	long := strings.Repeat("word ", 30)
	texts := []string{
		"Hello\n",
		"Hello Ana,\n\nA line with trailing spaces   \n.a line with a dot\n" + strings.Repeat("x", 200) + "\n=equals= and ü and 😀\r\nCRLF line\n\n\n",
		long + "\n\t tabbed\n",
		"no final newline",
	}
	htmls := []string{"", "<p>Hello</p>", "<table style=\"a:b\">\n<tr><td>" + long + "é</td></tr>\n</table>\n"}
	names := []string{"Ana Silva", "", "José \"Pepe\" Núñez", "😀 <x@y> = ?", strings.Repeat("Longname ", 12)}
	subjects := []string{"Millbrook: News", "Café news — ünïcode " + long, long + long, ""}
	var fromOpts = [][]BuilderOption{nil, {WithReplyTo("Office <office@example.org>")}}
	clock := func() time.Time { return time.Date(2026, 11, 27, 21, 0, 19, 0, time.FixedZone("", 3600)) }
	n := 0
	for fi, opts := range fromOpts {
		opts = append(opts, WithClock(clock))
		b, err := NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", opts...)
		if err != nil {
			t.Fatal(err)
		}
		for i, text := range texts {
			for j, html := range htmls {
				for k, name := range names {
					m := &Message{ToName: name, ToEmail: "ana@example.org", Subject: subjects[(i+j+k)%len(subjects)], Text: text, HTML: html,
						MessageID: "<20261127T210019.abc@example.org>"}
					if (i+k+fi)%2 == 0 {
						m.List, m.UnsubscribeURL = "newsletter", "https://news.example.org/unsubscribe/tok"
					}
					if (j+k)%2 == 1 {
						m.UnsubscribeMailto = "leave@example.org"
					}
					built, err := b.Build(m)
					if err != nil {
						t.Fatal(err)
					}
					got, err := built.Bytes()
					if err != nil {
						t.Fatal(err)
					}
					want := goMailBytes(t, b, m)
					if g, w := normalise(got), normalise(want); g != w {
						t.Fatalf("text %d html %d name %d:\n%q\nwant\n%q", i, j, k, g, w)
					}
					n++
				}
			}
		}
	}
	t.Logf("%d messages identical", n)
}

// Pieces give the bytes of the whole part: Text pieces cut anywhere, even
// inside a line or a UTF-8 sequence, and Encoded pieces between line
// breaks.
func TestWritePieces_AsWhole(t *testing.T) {
	text := "Hello Ana, " + strings.Repeat("long line of text é ", 8) + "  \nsecond line = two\n" +
		strings.Repeat("shared block line ü\n", 5) + "tail line with trailing space \nlast"
	shared := strings.Repeat("shared block line ü\n", 5)
	i := strings.Index(text, shared)
	b, err := NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", WithClock(func() time.Time { return time.Unix(0, 0) }))
	if err != nil {
		t.Fatal(err)
	}
	whole := &Message{ToEmail: "ana@example.org", Subject: "S", Text: text, HTML: text, MessageID: "<x@example.org>"}
	for cut := 1; cut < i; cut += 7 {
		ps := []Piece{{Text: text[:cut]}, {Text: text[cut:i]}, {Encoded: EncodeQP(shared)}, {Text: text[i+len(shared) : i+len(shared)+3]}, {Text: text[i+len(shared)+3:]}}
		spliced := &Message{ToEmail: "ana@example.org", Subject: "S", TextPieces: ps, HTMLPieces: ps, MessageID: "<x@example.org>"}
		var got, want []byte
		for _, m := range []*Message{whole, spliced} {
			bt, err := b.Build(m)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := bt.Bytes()
			if m == whole {
				want = raw
			} else {
				got = raw
			}
		}
		if boundaryRE.ReplaceAllString(string(got), "B") != boundaryRE.ReplaceAllString(string(want), "B") {
			t.Fatalf("cut %d:\n%s\nwant\n%s", cut, got, want)
		}
	}
}
