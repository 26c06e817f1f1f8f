package mailer

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// The signer's relaxed canonicalisation agrees with go-msgauth's verifier
// on bodies with runs of white space, tabs, white space at line ends,
// blank lines inside and at the end, and a Reply-To.
func TestSign_RelaxedEdgeCases(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(key.Public().(ed25519.PublicKey))
	b, err := NewBuilder("Millbrook Trust <news@example.org>", "Millbrook Trust", WithReplyTo("office@example.org"))
	if err != nil {
		t.Fatal(err)
	}
	b.dkim = &dkimConfig{domain: "example.org", selector: "news", key: key}
	b.dkimKeys = append(dkimHeaders[:len(dkimHeaders):len(dkimHeaders)], "Reply-To")
	for _, text := range []string{
		"Hello\n",
		"a  b\t\tc   \n\n   \nd\n\n\n\n",
		"\t\n  \n",
		"x\n" + strings.Repeat(" ", 80) + "y\n",
	} {
		for _, html := range []string{"", "<p>  spaced  </p>\n\n\n"} {
			built, err := b.Build(&Message{ToName: "Ana", ToEmail: "ana@example.org", Subject: "A  subject\twith  runs", Text: text, HTML: html,
				List: "newsletter", UnsubscribeURL: "https://news.example.org/u/x"})
			if err != nil {
				t.Fatal(err)
			}
			raw, err := built.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			verifs, err := dkim.VerifyWithOptions(bytes.NewReader(raw), &dkim.VerifyOptions{
				LookupTXT: func(string) ([]string, error) { return []string{pub}, nil }})
			if err != nil || len(verifs) != 1 || verifs[0].Err != nil {
				t.Fatalf("%q %q: %v %+v\n%s", text, html, err, verifs, raw)
			}
		}
	}
}

// trimEmptyLines and relaxLine on their own.
func TestRelaxedBody_Pieces(t *testing.T) {
	for in, want := range map[string]string{"a\r\n\r\n \r\n": "a\r\n", "": "", "\r\n\r\n": "", "a": "a", "a\r\n b\r\n\t\r\n": "a\r\n b\r\n"} {
		if got := string(trimEmptyLines([]byte(in))); got != want {
			t.Errorf("trimEmptyLines(%q) = %q, want %q", in, got, want)
		}
	}
	if got := string(relaxLine(nil, []byte(" a \t b  \r\n"))); got != " a b\r\n" {
		t.Errorf("relaxLine = %q", got)
	}
}
